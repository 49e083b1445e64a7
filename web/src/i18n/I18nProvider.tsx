// The language of the interface: a context with the locale, `t()` over the typed dictionary,
// labels of metadata (`{en, zh}`) and the Intl formatters bound to the locale. The choice is
// kept in localStorage and, once logged in, in the user's profile on the server.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { en, zh, type MessageKey } from './messages';
import * as format from './format';
import type { Locale } from './format';

export type { Locale, MessageKey };

const STORAGE_KEY = 'rapport.locale';

export function initialLocale(): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function translate(locale: Locale, key: MessageKey, params?: Record<string, string | number>): string {
  const text = (locale === 'en' ? en : zh)[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  /** The label of a metadata item in the current language (falls back to the other one). */
  label: (label: { en: string; zh: string } | undefined | null) => string;
  number: (value: number | string) => string;
  percent: (value: number | string) => string;
  money: (amount: string, currency: string) => string;
  moneyCompact: (amount: string, currency: string) => string;
  date: (value: string) => string;
  dateTime: (value: string) => string;
  relative: (value: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next;
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      locale,
      setLocale,
      t: (key, params) => translate(locale, key, params),
      label: (l) => (l ? (locale === 'en' ? l.en || l.zh : l.zh || l.en) : ''),
      number: (v) => format.formatNumber(locale, v),
      percent: (v) => format.formatPercent(locale, v),
      money: (a, c) => format.formatMoney(locale, a, c),
      moneyCompact: (a, c) => format.formatMoneyCompact(locale, a, c),
      date: (v) => format.formatDate(locale, v),
      dateTime: (v) => format.formatDateTime(locale, v),
      relative: (v) => format.formatRelative(locale, v),
    }),
    [locale, setLocale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
