// Puts a metadata error from the server, in the user's language, on the form field it
// concerns (422 codes of docs/API.md); returns false when no field fits, so the caller shows a
// message instead.
import type { FormInstance } from 'antd';
import { ApiError } from '../../api/client';
import { errorMessage } from '../../app/PageState';
import type { I18n } from '../../i18n/I18nProvider';

const FIELD_OF_CODE: Record<string, (string | number)[]> = {
  invalid_api_name: ['api_name'],
  reserved_name: ['api_name'],
  object_exists: ['api_name'],
  field_exists: ['api_name'],
  invalid_label: ['label', 'en'],
  invalid_formula: ['config', 'expression'],
  unknown_target: ['config', 'target'],
  email_taken: ['email'],
  invalid_email: ['email'],
  weak_password: ['password'],
  role_exists: ['name'],
  invalid_name: ['name'],
  invalid_url: ['url'],
  url_not_allowed: ['url'],
  invalid_webhook: ['topics'],
};

export function showOnField(form: FormInstance, error: unknown, i18n: I18n): boolean {
  if (!(error instanceof ApiError)) return false;
  const name = FIELD_OF_CODE[error.code];
  if (!name) return false;
  form.setFields([{ name, errors: [errorMessage(i18n, error)] }]);
  return true;
}
