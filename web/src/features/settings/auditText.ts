// How an audit entry reads: its action in the reader's language ("新建字段", not
// `field.create`), and its target by name — an object's or field's label, a user's, role's,
// token's or segment's name — with a link where there is a page, never a bare id. An id that
// no longer resolves (a deleted token) is named by its kind, and so is a background job. Pure, so it is unit-tested.
import type { AuditEntry, Label, ObjectDef, Role, User } from '../../api/types';
import type { MessageKey } from '../../i18n/I18nProvider';

export interface AuditLookups {
  objects: ObjectDef[];
  users: User[];
  roles: Role[];
  tokens: { id: string; name: string }[];
  segments: { id: string; name: string }[];
  teams: { id: string; name: string }[];
}

export type TargetText =
  | { kind: 'none' }
  | { kind: 'text'; text: string; to?: string }
  | { kind: 'label'; label: Label; to?: string }
  | { kind: 'role'; role: Role }
  | { kind: 'missing'; what: MessageKey }
  | { kind: 'kind'; what: MessageKey; to: string };

export const AUDIT_ACTIONS = [
  'login', 'permission_denied', 'export', 'records.repair',
  'object.create', 'object.update', 'object.archive', 'object.restore', 'object.purge',
  'field.create', 'field.update', 'field.archive', 'field.restore', 'field.purge',
  'user.create', 'user.update', 'user.password_change', 'role.save', 'token.create', 'token.revoke',
  'team.create', 'team.update', 'team.delete',
  'webhook.create', 'webhook.update', 'webhook.delete', 'webhook.rotate_secret', 'webhook.resend',
  'connector.create', 'connector.update', 'connector.delete',
  'dictionary.create', 'dictionary.update', 'dictionary.delete',
  'inbound_hook.create', 'inbound_hook.update', 'inbound_hook.delete', 'inbound_hook.rotate_secret',
  'job.retry', 'job.cancel', 'job.discard',
  'cdp.segment.create', 'cdp.segment.update', 'cdp.segment.archive', 'cdp.segment.recount', 'cdp.segment.export',
  'cdp.snapshot.take', 'cdp.snapshot.export', 'cdp.snapshot.push', 'cdp.signing_secret.rotate',
  'cdp.source.create', 'cdp.source.update', 'cdp.source.rotate_key', 'cdp.source.rotate_verification_secret',
  'cdp.event_type.save', 'cdp.event_type.delete', 'cdp.settings.update', 'cdp.merge.undo', 'cdp.held.replay',
] as const;

/** The message key of an action; unknown actions (from a newer server) have none. */
export function actionKey(action: string): MessageKey | null {
  return (AUDIT_ACTIONS as readonly string[]).includes(action) ? (`audit.action.${action}` as MessageKey) : null;
}

const joined = (a: Label, b: Label): Label => ({ en: `${a.en} · ${b.en}`, zh: `${a.zh} · ${b.zh}` });

export function auditTarget(entry: Pick<AuditEntry, 'action' | 'target' | 'details'>, lookups: AuditLookups): TargetText {
  const target = entry.target ?? '';
  const details = (entry.details ?? {}) as Record<string, unknown>;
  const detailName = typeof details.name === 'string' && details.name !== '' ? details.name : null;
  if (!target) return { kind: 'none' };
  const [group] = entry.action.split('.');
  const object = (apiName: string) => lookups.objects.find((o) => o.api_name === apiName);

  if (group === 'object' || entry.action === 'export' || entry.action === 'records.repair') {
    const found = object(target);
    return found ? { kind: 'label', label: found.plural_label, to: `/o/${found.api_name}` } : { kind: 'text', text: target };
  }
  if (group === 'field') {
    const [objectName, fieldName] = target.split('.');
    const found = object(objectName);
    const field = found?.fields.find((f) => f.api_name === fieldName);
    if (found && field) return { kind: 'label', label: joined(found.label, field.label), to: `/settings/objects/${found.api_name}` };
    return { kind: 'text', text: target };
  }
  if (group === 'user') {
    const user = lookups.users.find((u) => u.id === target);
    return user ? { kind: 'text', text: user.name } : { kind: 'missing', what: 'audit.target.user' };
  }
  if (group === 'role') {
    const role = lookups.roles.find((r) => r.id === target);
    return role ? { kind: 'role', role } : { kind: 'missing', what: 'audit.target.role' };
  }
  if (group === 'team') {
    const team = lookups.teams.find((t) => t.id === target);
    return team || detailName ? { kind: 'text', text: team?.name ?? detailName ?? '', to: team ? '/settings/teams' : undefined } : { kind: 'missing', what: 'audit.target.team' };
  }
  if (group === 'token') {
    const token = lookups.tokens.find((t) => t.id === target);
    return token || detailName ? { kind: 'text', text: token?.name ?? detailName ?? '' } : { kind: 'missing', what: 'audit.target.token' };
  }
  if (entry.action.startsWith('cdp.segment.')) {
    const segment = lookups.segments.find((s) => s.id === target);
    return segment || detailName
      ? { kind: 'text', text: segment?.name ?? detailName ?? '', to: segment ? `/cdp/segments/${segment.id}` : undefined }
      : { kind: 'missing', what: 'audit.target.segment' };
  }
  if (entry.action.startsWith('cdp.snapshot.')) {
    const segment = lookups.segments.find((s) => s.id === details.segment_id);
    return detailName ? { kind: 'text', text: detailName, to: segment ? `/cdp/segments/${segment.id}` : undefined } : { kind: 'missing', what: 'audit.target.snapshot' };
  }
  if (group === 'job') return { kind: 'kind', what: 'audit.target.job', to: '/settings/jobs' };
  if (group === 'webhook') {
    const url = typeof details.url === 'string' ? details.url : null;
    return url ? { kind: 'text', text: url, to: '/settings/webhooks' } : { kind: 'kind', what: 'audit.target.webhook', to: '/settings/webhooks' };
  }
  if (group === 'connector' || group === 'inbound_hook') {
    const to = group === 'connector' ? '/settings/connectors' : '/settings/inbound-hooks';
    return detailName ? { kind: 'text', text: detailName, to } : { kind: 'kind', what: group === 'connector' ? 'audit.target.connector' : 'audit.target.inboundHook', to };
  }
  if (group === 'dictionary') {
    const text = [details.system, details.object, details.field].filter((p) => typeof p === 'string').join(' · ');
    return text ? { kind: 'text', text, to: '/settings/dictionary' } : { kind: 'kind', what: 'audit.target.dictionary', to: '/settings/dictionary' };
  }
  // The rest name their target already: an email that logged in, an event type, a permission.
  return { kind: 'text', text: target };
}
