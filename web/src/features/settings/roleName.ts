// A role's name in the reader's language. The three roles every workspace starts with are named
// in both languages at once ("Sales / 销售"); while an admin has not renamed them, each reader
// sees the half in their own language. Other names are the admin's, shown as typed.
import type { Role } from '../../api/types';
import type { I18n, MessageKey } from '../../i18n/I18nProvider';

const STANDARD: Record<string, string> = {
  admin: 'Administrator / 管理员',
  sales: 'Sales / 销售',
  read_only: 'Read only / 只读',
};

export function roleName(i18n: Pick<I18n, 't'>, role: Pick<Role, 'id' | 'name'>): string {
  return STANDARD[role.id] === role.name ? i18n.t(`role.${role.id}` as MessageKey) : role.name;
}
