// Field errors from the server for forms and inline edit: a duplicate value's field read from
// the 409 message, and an error code in the user's language.
import type { ApiError, FieldErrorDetail } from '../../api/client';
import type { MessageKey } from '../../i18n/I18nProvider';

/** A 409 `duplicate_value` names its field at the start of the message ("serial_number: …"). */
export function duplicateField(error: ApiError): FieldErrorDetail[] {
  const field = error.code === 'duplicate_value' ? /^([a-z][a-z0-9_]*): /.exec(error.message)?.[1] : undefined;
  return field ? [{ field, code: 'duplicate_value', message: error.message }] : [];
}

/** A field error from the server in the user's language (the server's text when unknown). */
export function translateFieldError(t: (key: MessageKey) => string, code: string, fallback: string): string {
  const key = `fieldError.${code}` as MessageKey;
  const text = t(key);
  return text === key ? fallback : text;
}
