// A data-health warning's detail in the reader's language, from its code and details (the
// server's `message` is English and names profiles by id): who was not merged and why, with
// the identifier that linked them; which profiles are concerned, for links. Pure, so it is
// unit-tested; a code this version does not know shows the server's message in English only.
import type { I18n, MessageKey } from '../../i18n/I18nProvider';

export interface WarningLike {
  code: string;
  message: string;
  details: unknown;
}

type Details = {
  identifier?: { type?: unknown; value?: unknown };
  user_ids?: unknown;
  limit?: unknown;
  profiles?: unknown;
  profile?: unknown;
};

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The first user id of each side of a refused merge. */
function userIds(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((side) => (Array.isArray(side) ? text(side[0]) : text(side))).filter(Boolean);
}

export function warningSentence(i18n: Pick<I18n, 't' | 'locale'>, w: WarningLike, identifierLabel: (type: string) => string): string {
  const d = (w.details ?? {}) as Details;
  const how = d.identifier ? `${identifierLabel(text(d.identifier.type))} ${text(d.identifier.value)}`.trim() : '';
  switch (w.code) {
    case 'merge_refused_user_ids': {
      const [a = '', b = ''] = userIds(d.user_ids);
      return i18n.t('cdp.warning.userIds', { a, b, how });
    }
    case 'merge_refused_identifier_limit':
      return i18n.t('cdp.warning.identifierLimit', { how, limit: text(d.limit) });
    case 'merge_refused_too_many_customers':
      return i18n.t('cdp.warning.tooManyCustomers', { count: Array.isArray(d.profiles) ? d.profiles.length : '', limit: text(d.limit) });
    case 'contact_sync_failed':
    case 'company_sync_failed':
    case 'contact_unverified':
      return i18n.t(`cdp.warning.${w.code}` as MessageKey);
    default:
      return i18n.locale === 'en' ? w.message : '';
  }
}

/** The profiles a warning concerns (to link to), in order, without repeats. */
export function warningProfiles(w: WarningLike): string[] {
  const d = (w.details ?? {}) as Details;
  const all = [...(Array.isArray(d.profiles) ? d.profiles : []), d.profile].map(text).filter(Boolean);
  return [...new Set(all)];
}
