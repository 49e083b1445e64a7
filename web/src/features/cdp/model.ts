// Pure helpers of the CDP pages: durations, the health series and histogram, journey days and
// key properties, the schema editor's parsing, the tracking snippets of a source, and what a
// customer profile is called.
import type { Locale } from '../../i18n/format';
import type { I18n, MessageKey } from '../../i18n/I18nProvider';
import type { JourneyEntry, MinutePoint } from './api';

const UNITS: [Intl.NumberFormatOptions['unit'], number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];

/** A duration in the largest unit that fits ("250 ms", "1.5 s", "7 d" / "7天"). */
export function formatDuration(locale: Locale, ms: number): string {
  for (const [unit, size] of UNITS) {
    if (Math.abs(ms) >= size) {
      return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'narrow', maximumFractionDigits: 1 }).format(ms / size);
    }
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'millisecond', unitDisplay: 'narrow' }).format(ms);
}

/** Labels of the delay buckets: "≤ 100ms" … and "> 7d" for the open last one. */
export function bucketLabels(locale: Locale, bounds: number[]): string[] {
  const last = bounds[bounds.length - 1];
  return [...bounds.map((b) => `≤ ${formatDuration(locale, b)}`), last === undefined ? '' : `> ${formatDuration(locale, last)}`];
}

/** A delay quantile: the bucket's upper bound, or "> last bound" for the open bucket. */
export function formatQuantile(locale: Locale, ms: number | null | undefined, bounds: number[]): string | null {
  if (ms === null || ms === undefined) return null;
  const last = bounds[bounds.length - 1];
  return last !== undefined && ms >= last ? `> ${formatDuration(locale, last)}` : `≤ ${formatDuration(locale, ms)}`;
}

export const OUTCOMES = ['accepted', 'quarantined', 'rejected', 'duplicates'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface SeriesBucket {
  /** Start of the bucket (ms since the epoch). */
  at: number;
  /** Events per minute of each outcome, averaged over the bucket. */
  perMinute: Record<Outcome, number>;
}

/** Minutes per chart point: one minute for an hour, ten for a day, an hour for a week. */
export function bucketMinutes(windowMinutes: number): number {
  if (windowMinutes <= 120) return 1;
  if (windowMinutes <= 1440) return 10;
  return 60;
}

/**
 * The per-minute points of several sources summed into evenly spaced buckets covering the whole
 * window (minutes without events count as zero, so the chart never interpolates over gaps).
 */
export function seriesBuckets(series: MinutePoint[][], windowMinutes: number, now: number): SeriesBucket[] {
  const size = bucketMinutes(windowMinutes) * 60_000;
  const end = Math.floor(now / size) * size;
  const count = Math.ceil((windowMinutes * 60_000) / size);
  const start = end - (count - 1) * size;
  const buckets: SeriesBucket[] = Array.from({ length: count }, (_, i) => ({
    at: start + i * size,
    perMinute: { accepted: 0, quarantined: 0, rejected: 0, duplicates: 0 },
  }));
  const minutes = size / 60_000;
  for (const points of series) {
    for (const p of points) {
      const index = Math.floor((new Date(p.minute).getTime() - start) / size);
      const bucket = buckets[index];
      if (!bucket) continue;
      for (const outcome of OUTCOMES) bucket.perMinute[outcome] += p[outcome] / minutes;
    }
  }
  return buckets;
}

/** Element-wise sum of the sources' delay histograms. */
export function sumBuckets(histograms: number[][], length: number): number[] {
  const out = new Array<number>(length).fill(0);
  for (const h of histograms) h.forEach((v, i) => { if (i < length) out[i] = (out[i] ?? 0) + v; });
  return out;
}

/** The calendar day (in the viewer's time zone) of a time, as `YYYY-MM-DD`. */
export function localDay(value: string): string {
  const d = new Date(value);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Journey entries (newest first) in runs of one calendar day each. */
export function groupByDay(entries: JourneyEntry[]): { day: string; entries: JourneyEntry[] }[] {
  const groups: { day: string; entries: JourneyEntry[] }[] = [];
  for (const entry of entries) {
    const day = localDay(entry.at);
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.entries.push(entry);
    else groups.push({ day, entries: [entry] });
  }
  return groups;
}

function short(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.length > 80 ? `${value.slice(0, 79)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Up to `max` properties worth showing for an event: its properties, traits or ids. */
export function eventProperties(entry: JourneyEntry, max = 4): [string, string][] {
  const data = entry.data as Record<string, unknown>;
  const bag = (name: string) => (data[name] && typeof data[name] === 'object' ? (data[name] as Record<string, unknown>) : {});
  let pairs: [string, unknown][];
  switch (entry.type) {
    case 'identify':
      pairs = [['userId', data.userId], ...Object.entries(bag('traits'))];
      break;
    case 'group':
      pairs = [['groupId', data.groupId], ...Object.entries(bag('traits'))];
      break;
    case 'alias':
      pairs = [['previousId', data.previousId], ['userId', data.userId]];
      break;
    default:
      pairs = Object.entries(bag('properties'));
  }
  return pairs
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .slice(0, max)
    .map(([k, v]) => [k, short(v)]);
}

/** The schema editor's text as a JSON object, or the reason it is not one. */
export function parseSchema(text: string): { schema: Record<string, unknown> } | { error: 'json' | 'object'; detail?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: 'json', detail: (error as Error).message };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'object' };
  return { schema: value as Record<string, unknown> };
}

/** Ready-to-paste tracking code for a source, pointed at this server. */
export function snippets(host: string, writeKey: string): { curl: string; python: string; node: string } {
  return {
    curl: [
      `curl -u '${writeKey}:' -H 'content-type: application/json' \\`,
      `  -d '{"batch":[{"type":"identify","userId":"u1","traits":{"email":"li@example.com"}},`,
      `              {"type":"track","userId":"u1","event":"Product Viewed","properties":{"sku":"A-1"}}]}' \\`,
      `  ${host}/v1/batch`,
    ].join('\n'),
    python: [
      '# pip install segment-analytics-python',
      'import segment.analytics as analytics',
      `analytics.write_key = "${writeKey}"`,
      `analytics.host = "${host}"`,
      'analytics.track("u1", "Product Viewed", {"sku": "A-1"})',
      'analytics.flush()',
    ].join('\n'),
    node: [
      '// npm install @segment/analytics-node',
      "import { Analytics } from '@segment/analytics-node';",
      `const analytics = new Analytics({ writeKey: '${writeKey}', host: '${host}' });`,
      "analytics.track({ userId: 'u1', event: 'Product Viewed', properties: { sku: 'A-1' } });",
      'await analytics.closeAndFlush();',
    ].join('\n'),
  };
}

/** How a company's server signs a logged-in user's id for identity verification
 * (`context.userHash` = hex HMAC-SHA256 of the userId under the source's secret). */
export function verificationSnippet(secret: string): string {
  return [
    '# On your server, for the logged-in user (never in the browser or the app):',
    'import hashlib, hmac',
    `user_hash = hmac.new(b"${secret}", user_id.encode(), hashlib.sha256).hexdigest()`,
    '# …and in the page or app, with every call for that user:',
    "# analytics.identify(userId, traits, { context: { userHash } })",
  ].join('\n');
}

/** The time of day of a date-time, in the viewer's zone ("14:05"). */
export function formatTime(locale: Locale, value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(date);
}

/** The translation of a code under a prefix (`cdp.code.schema_violation`), or the code itself. */
export function codeLabel(t: I18n['t'], prefix: string, code: string): string {
  const key = `${prefix}.${code}` as MessageKey;
  const text = t(key);
  return text === key ? code : text;
}

/** What names a customer profile, best first: its `name` trait, its email or phone (trait or
 *  identifier), its own user id; `null` when it has none (an anonymous visitor) — never its id. */
export function profileTitle(profile: { traits: unknown; identifiers: { type: string; value: string }[] }): string | null {
  const traits = (profile.traits ?? {}) as Record<string, unknown>;
  for (const key of ['name', 'email', 'phone']) {
    const value = traits[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  for (const type of ['email', 'phone', 'user_id']) {
    const found = profile.identifiers.find((i) => i.type === type);
    if (found) return found.value;
  }
  return null;
}
