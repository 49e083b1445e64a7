import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { catalogue } from '../api/errorCodes';
import { errorMessage } from '../app/errorMessage';
import { codeTexts, errorCodeText, eventCodeText, fieldCodeText } from './codes';
import { translate, type I18n, type Locale } from './I18nProvider';

const LOCALES: Locale[] = ['en', 'zh-CN'];
const HAN = /[\u4e00-\u9fff]/;

function i18n(locale: Locale): I18n {
  return { locale, t: (key, params) => translate(locale, key, params) } as I18n;
}

describe('the catalogue of codes', () => {
  it('has a sentence for every code of every kind in both languages, and nothing else', () => {
    const kinds = [
      ['errors', catalogue.errors],
      ['fields', catalogue.fields],
      ['events', [...catalogue.events, ...catalogue.warnings]],
    ] as const;
    for (const locale of LOCALES) {
      for (const [kind, codes] of kinds) {
        const table: Record<string, string> = codeTexts[locale][kind];
        const expected = [...new Set(codes.map((c) => c.code))].sort();
        expect(Object.keys(table).sort(), `${locale} ${kind}`).toEqual(expected);
        for (const code of expected) {
          expect(table[code].trim(), `${locale} ${kind} ${code}`).not.toBe('');
          if (locale === 'zh-CN') expect(table[code], `${kind} ${code} in Chinese`).toMatch(HAN);
        }
      }
    }
  });

  it('tells the two invalid_credentials apart by status', () => {
    expect(errorCodeText('zh-CN', 'invalid_credentials', 401)).toBe('邮箱或密码错误。');
    expect(errorCodeText('zh-CN', 'invalid_credentials', 403)).toBe('当前密码错误。');
  });

  it('knows no code outside the catalogue', () => {
    expect(errorCodeText('en', 'toString')).toBeUndefined();
    expect(fieldCodeText('en', 'constructor')).toBeUndefined();
    expect(eventCodeText('zh-CN', 'something_new')).toBe('something_new');
  });
});

describe('errorMessage', () => {
  const english = 'you may not read contact';

  it('translates every error code and never shows the server’s English in Chinese', () => {
    for (const { code, status } of catalogue.errors) {
      const error = new ApiError(status, code, english, {});
      const zh = errorMessage(i18n('zh-CN'), error);
      expect(zh, code).toBe(errorCodeText('zh-CN', code, status));
      expect(zh, code).not.toContain(english);
      expect(errorMessage(i18n('en'), error), code).toContain(errorCodeText('en', code, status));
    }
  });

  it('adds the server’s detail to a refused input in English only', () => {
    const error = new ApiError(422, 'invalid_settings', '`QQ` is not a region code', {});
    expect(errorMessage(i18n('en'), error)).toBe('The identity settings are not valid. (`QQ` is not a region code)');
    expect(errorMessage(i18n('zh-CN'), error)).toBe('身份设置无效。');
    const fields = new ApiError(422, 'validation_failed', '2 fields failed validation', { fields: [] });
    expect(errorMessage(i18n('en'), fields)).toBe('Please correct the highlighted fields.');
  });

  it('falls back on the status for a code it does not know', () => {
    expect(errorMessage(i18n('zh-CN'), new ApiError(403, 'new_refusal', english, {}))).toBe('你没有执行此操作的权限。');
    expect(errorMessage(i18n('zh-CN'), new ApiError(409, 'new_conflict', english, {}))).toBe('服务器未能完成操作（错误代码 new_conflict）。');
    expect(errorMessage(i18n('en'), new ApiError(409, 'new_conflict', english, {}))).toContain(english);
    expect(errorMessage(i18n('zh-CN'), new ApiError(0, 'network_error', 'fetch failed', null))).toBe('无法连接服务器，请检查网络。');
  });
});
