// The sentence the interface shows for an error from the server.
import { ApiError } from '../api/client';
import type { I18n } from '../i18n/I18nProvider';
import { errorCodeText } from '../i18n/codes';

/**
 * A sentence for the user about an error from the server, in their language, chosen by the
 * error's `code` (the catalogue in i18n/codes.ts). The server's English `message` is never shown
 * in the Chinese interface; the English one adds it to refusals of input (400, 422), where it
 * says exactly what to change.
 */
export function errorMessage(i18n: I18n, error: unknown): string {
  const { t, locale } = i18n;
  if (!(error instanceof ApiError)) return t('error.unexpected');
  if (error.code === 'network_error') return t('error.network');
  const text = errorCodeText(locale, error.code, error.status);
  if (text) {
    // (Not for validation_failed: its fields carry their own codes, shown on the form.)
    const input = (error.status === 400 || error.status === 422) && !error.code.endsWith('validation_failed');
    const detail = locale === 'en' && input && error.message && error.message !== text;
    return detail ? `${text} (${error.message})` : text;
  }
  // A code this build does not know (a newer server): say what we can by status.
  if (error.status === 403) return t('error.forbidden');
  if (error.status === 404) return t('error.notFound');
  return locale === 'en' ? t('error.server', { message: error.message }) : t('error.unknownCode', { code: error.code });
}
