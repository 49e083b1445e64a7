// Field errors from the server for forms and inline edit: a duplicate value's field read from
// the 409 message, and an error code in the user's language.
import type { ApiError, FieldErrorDetail } from '../../api/client';
import type { I18n } from '../../i18n/I18nProvider';
import { fieldCodeText } from '../../i18n/codes';

/** A 409 `duplicate_value` names its field at the start of the message ("serial_number: …"). */
export function duplicateField(error: ApiError): FieldErrorDetail[] {
  const field = error.code === 'duplicate_value' ? /^([a-z][a-z0-9_]*): /.exec(error.message)?.[1] : undefined;
  return field ? [{ field, code: 'duplicate_value', message: error.message }] : [];
}

/**
 * A field error from the server in the user's language, by its code; the server's text only
 * for a code this build does not know, and only in the English interface.
 */
export function translateFieldError(i18n: I18n, code: string, fallback: string): string {
  return fieldCodeText(i18n.locale, code) ?? (i18n.locale === 'en' ? fallback : i18n.t('error.unknownCode', { code }));
}
