import { describe, expect, it } from 'vitest';
import type { ObjectDef, Role, User } from '../../api/types';
import { en, zh } from '../../i18n/messages';
import { AUDIT_ACTIONS, actionKey, auditTarget, type AuditLookups } from './auditText';

const contact = {
  api_name: 'contact',
  label: { en: 'Contact', zh: '联系人' },
  plural_label: { en: 'Contacts', zh: '联系人' },
  fields: [{ api_name: 'serial_no', label: { en: 'Serial number', zh: '序列号' } }],
} as unknown as ObjectDef;
const lookups: AuditLookups = {
  objects: [contact],
  users: [{ id: 'u1', name: '王芳' } as User],
  roles: [{ id: 'sales', name: '销售' } as Role],
  tokens: [{ id: 't1', name: 'ERP 同步' }],
  segments: [{ id: 's1', name: '高价值客户' }],
  teams: [{ id: 'tm1', name: '华东销售组' }],
};
const entry = (action: string, target: string | null, details: object = {}) => ({ action, target, details });

describe('audit entries', () => {
  it('has a message in both languages for every action', () => {
    for (const action of AUDIT_ACTIONS) {
      const key = actionKey(action);
      expect(key && key in en && key in zh, action).toBe(true);
    }
    expect(actionKey('something.new')).toBeNull();
  });

  it('names objects and fields by their labels, with a link', () => {
    expect(auditTarget(entry('field.create', 'contact.serial_no'), lookups)).toEqual({
      kind: 'label', label: { en: 'Contact · Serial number', zh: '联系人 · 序列号' }, to: '/settings/objects/contact',
    });
    expect(auditTarget(entry('export', 'contact'), lookups)).toEqual({ kind: 'label', label: contact.plural_label, to: '/o/contact' });
  });

  it('names users, roles, tokens and segments, and says when one is gone', () => {
    expect(auditTarget(entry('user.update', 'u1'), lookups)).toEqual({ kind: 'text', text: '王芳' });
    expect(auditTarget(entry('user.update', 'u9'), lookups)).toEqual({ kind: 'missing', what: 'audit.target.user' });
    expect(auditTarget(entry('role.save', 'sales'), lookups)).toEqual({ kind: 'role', role: { id: 'sales', name: '销售' } });
    expect(auditTarget(entry('token.revoke', 't9', { name: '旧令牌' }), lookups)).toEqual({ kind: 'text', text: '旧令牌' });
    expect(auditTarget(entry('token.revoke', 't9'), lookups)).toEqual({ kind: 'missing', what: 'audit.target.token' });
    expect(auditTarget(entry('cdp.segment.update', 's1'), lookups)).toEqual({ kind: 'text', text: '高价值客户', to: '/cdp/segments/s1' });
    expect(auditTarget(entry('cdp.snapshot.take', 'snap1', { segment_id: 's1', name: '月末' }), lookups)).toEqual({
      kind: 'text', text: '月末', to: '/cdp/segments/s1',
    });
    expect(auditTarget(entry('team.update', 'tm1'), lookups)).toEqual({ kind: 'text', text: '华东销售组', to: '/settings/teams' });
    expect(auditTarget(entry('team.delete', 'tm9', { name: '旧团队' }), lookups)).toEqual({ kind: 'text', text: '旧团队', to: undefined });
    expect(auditTarget(entry('job.retry', 'j1'), lookups)).toEqual({ kind: 'kind', what: 'audit.target.job', to: '/settings/jobs' });
  });

  it('shows targets that are names already, and nothing for none', () => {
    expect(auditTarget(entry('login', 'admin@rapport.local'), lookups)).toEqual({ kind: 'text', text: 'admin@rapport.local' });
    expect(auditTarget(entry('cdp.signing_secret.rotate', null), lookups)).toEqual({ kind: 'none' });
  });
});
