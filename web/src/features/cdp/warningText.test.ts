import { describe, expect, it } from 'vitest';
import { en, zh } from '../../i18n/messages';
import { warningProfiles, warningSentence } from './warningText';

const reader = (locale: 'en' | 'zh-CN') => {
  const messages = (locale === 'en' ? en : zh) as Record<string, string>;
  return {
    locale,
    t: (key: string, vars: Record<string, unknown> = {}) => (messages[key] ?? key).replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? '')),
  } as never;
};
const label = (type: string) => ({ email: '邮箱' })[type] ?? type;
const refused = {
  code: 'merge_refused_user_ids',
  message: 'refused to merge two profiles with different user ids (u-2 and u-1) linked by email f@example.com',
  details: { profiles: ['p1', 'p2'], user_ids: [['u-2'], ['u-1']], identifier: { type: 'email', value: 'f@example.com' } },
};

describe('data-health warnings', () => {
  it('reads a refused merge in Chinese, without profile ids', () => {
    const sentence = warningSentence(reader('zh-CN'), refused, label);
    expect(sentence).toContain('u-2');
    expect(sentence).toContain('邮箱 f@example.com');
    expect(sentence).not.toMatch(/refused|p1|p2/);
  });

  it('reads a failed sync without the server’s English', () => {
    const failed = { code: 'contact_sync_failed', message: 'profile 01a2 could not be synced: boom', details: { profile: 'p9' } };
    expect(warningSentence(reader('zh-CN'), failed, label)).not.toMatch(/could not|profile|01a2/);
    expect(warningProfiles(failed)).toEqual(['p9']);
    expect(warningProfiles(refused)).toEqual(['p1', 'p2']);
  });

  it('shows an unknown code’s message in English only', () => {
    const unknown = { code: 'new_warning', message: 'something new happened', details: {} };
    expect(warningSentence(reader('en'), unknown, label)).toBe('something new happened');
    expect(warningSentence(reader('zh-CN'), unknown, label)).toBe('');
  });
});
