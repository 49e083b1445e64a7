// Locale-aware formatting with Intl: numbers, exact decimal strings, money, dates (a date-only
// value is a calendar day, never shifted by time zone) and date-times in the viewer's zone.

export type Locale = 'zh-CN' | 'en';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.NumberFormat | undefined;
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

function dateFormat(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

/** Digits after the point of an exact decimal string ("12.50" → 2). */
function scaleOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Intl formats decimal strings exactly (no float rounding); the type needs the cast. */
function exact(value: string): number {
  return value as unknown as number;
}

export function formatNumber(locale: Locale, value: number | string): string {
  if (typeof value === 'number') return numberFormat(locale, {}).format(value);
  const scale = scaleOf(value);
  return numberFormat(locale, { minimumFractionDigits: scale, maximumFractionDigits: scale }).format(exact(value));
}

export function formatPercent(locale: Locale, value: string | number): string {
  return `${formatNumber(locale, value)}%`;
}

export function formatMoney(locale: Locale, amount: string, currency: string): string {
  try {
    const scale = scaleOf(amount);
    return numberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: scale,
      maximumFractionDigits: scale,
    }).format(exact(amount));
  } catch {
    return `${currency} ${formatNumber(locale, amount)}`;
  }
}

/** A compact money figure for totals and charts ("¥1.5M" / "¥150万"). */
export function formatMoneyCompact(locale: Locale, amount: string, currency: string): string {
  try {
    return numberFormat(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(
      exact(amount),
    );
  } catch {
    return formatMoney(locale, amount, currency);
  }
}

/** `YYYY-MM-DD` as a calendar date. */
export function formatDate(locale: Locale, value: string): string {
  const [y, m, d] = value.split('-').map(Number);
  if (!y || !m || !d) return value;
  return dateFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

export function formatDateTime(locale: Locale, value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return dateFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** "3 minutes ago" / "3 分钟前". */
export function formatRelative(locale: Locale, value: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(value).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['year', 31536000],
    ['month', 2592000],
    ['week', 604800],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(seconds, 'second');
}
