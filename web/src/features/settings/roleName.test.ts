import { describe, expect, it } from 'vitest';
import { en, zh } from '../../i18n/messages';
import { roleName } from './roleName';

const reader = (messages: Record<string, string>) => ({ t: (key: string) => messages[key] ?? key }) as never;

describe('roleName', () => {
  it('shows a standard role in one language', () => {
    expect(roleName(reader(zh), { id: 'sales', name: 'Sales / 销售' })).toBe('销售');
    expect(roleName(reader(en), { id: 'read_only', name: 'Read only / 只读' })).toBe('Read only');
    expect(roleName(reader(zh), { id: 'admin', name: 'Administrator / 管理员' })).toBe('管理员');
  });

  it("keeps an admin's own name", () => {
    expect(roleName(reader(zh), { id: 'sales', name: '华东销售' })).toBe('华东销售');
    expect(roleName(reader(en), { id: 'partner', name: 'Sales / 销售' })).toBe('Sales / 销售');
  });
});
