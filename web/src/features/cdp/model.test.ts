// The CDP pages' pure helpers: durations, health buckets, journey days, schema parsing.
import { describe, expect, it } from 'vitest';
import type { JourneyEntry } from './api';
import { bucketLabels, eventProperties, formatDuration, formatQuantile, groupByDay, parseSchema, profileTitle, seriesBuckets, snippets, sumBuckets } from './model';

const entry = (at: string, extra: Partial<JourneyEntry> = {}): JourneyEntry => ({
  at, category: 'event', type: 'track', source: 's1', id: at, data: {}, ...extra,
});

describe('formatDuration', () => {
  it('picks the largest unit that fits', () => {
    expect(formatDuration('en', 250)).toBe('250ms');
    expect(formatDuration('en', 1500)).toBe('1.5s');
    expect(formatDuration('en', 300_000)).toBe('5m');
    expect(formatDuration('en', 604_800_000)).toBe('7d');
    expect(formatDuration('zh-CN', 604_800_000)).toBe('7天');
  });
  it('labels buckets and quantiles, the last bucket open', () => {
    expect(bucketLabels('en', [100, 1000])).toEqual(['≤ 100ms', '≤ 1s', '> 1s']);
    expect(formatQuantile('en', 100, [100, 1000])).toBe('≤ 100ms');
    expect(formatQuantile('en', 1000, [100, 1000])).toBe('> 1s');
    expect(formatQuantile('en', null, [100])).toBeNull();
  });
});

describe('seriesBuckets', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 30);
  const point = (minute: string, accepted: number) => ({ minute, received: accepted, accepted, rejected: 0, quarantined: 1, duplicates: 0 });
  it('covers the window minute by minute for an hour, zero where nothing arrived', () => {
    const buckets = seriesBuckets([[point('2026-01-01T12:00:00Z', 6)], [point('2026-01-01T12:00:00Z', 4)]], 60, now);
    expect(buckets).toHaveLength(60);
    expect(buckets[59]?.perMinute.accepted).toBe(10);
    expect(buckets[59]?.perMinute.quarantined).toBe(2);
    expect(buckets[0]?.perMinute.accepted).toBe(0);
  });
  it('averages per minute over coarser buckets for a week', () => {
    const buckets = seriesBuckets([[point('2026-01-01T12:00:00Z', 120)]], 10_080, now);
    expect(buckets).toHaveLength(168);
    expect(buckets[167]?.perMinute.accepted).toBe(2);
  });
  it('sums histograms', () => {
    expect(sumBuckets([[1, 2], [3, 4, 5]], 3)).toEqual([4, 6, 5]);
  });
});

describe('journey helpers', () => {
  it('groups newest-first entries by day', () => {
    const groups = groupByDay([entry('2026-03-02T12:00:00'), entry('2026-03-02T08:00:00'), entry('2026-03-01T09:00:00')]);
    expect(groups.map((g) => [g.day, g.entries.length])).toEqual([['2026-03-02', 2], ['2026-03-01', 1]]);
  });
  it('shows the properties of a track and the traits of an identify', () => {
    expect(eventProperties(entry('2026-03-02T12:00:00Z', { data: { properties: { sku: 'A-1', price: 9.5, empty: null } } }))).toEqual([
      ['sku', 'A-1'],
      ['price', '9.5'],
    ]);
    expect(eventProperties(entry('2026-03-02T12:00:00Z', { type: 'identify', data: { userId: 'u1', traits: { email: 'a@b.cn' } } }))).toEqual([
      ['userId', 'u1'],
      ['email', 'a@b.cn'],
    ]);
  });
});

describe('parseSchema and snippets', () => {
  it('accepts a JSON object only', () => {
    expect(parseSchema('{"type":"object"}')).toEqual({ schema: { type: 'object' } });
    expect(parseSchema('[1]')).toEqual({ error: 'object' });
    expect('error' in parseSchema('{')).toBe(true);
  });
  it('points the client libraries at this server', () => {
    const s = snippets('http://127.0.0.1:8080', 'wk_1');
    expect(s.curl).toContain("-u 'wk_1:'");
    expect(s.curl).toContain('http://127.0.0.1:8080/v1/batch');
    expect(s.python).toContain('analytics.host = "http://127.0.0.1:8080"');
    expect(s.node).toContain("host: 'http://127.0.0.1:8080'");
  });
});

describe('profileTitle', () => {
  const id = (type: string, value: string) => ({ type, value });
  it('prefers the name, then email or phone, then the user id, never the profile id', () => {
    expect(profileTitle({ traits: { name: '张伟', email: 'z@example.cn' }, identifiers: [] })).toBe('张伟');
    expect(profileTitle({ traits: { name: '  ', email: 'z@example.cn' }, identifiers: [] })).toBe('z@example.cn');
    expect(profileTitle({ traits: {}, identifiers: [id('anonymous_id', 'a-1'), id('phone', '+8613800000000')] })).toBe('+8613800000000');
    expect(profileTitle({ traits: {}, identifiers: [id('anonymous_id', 'a-1'), id('user_id', 'u-42')] })).toBe('u-42');
    expect(profileTitle({ traits: {}, identifiers: [id('anonymous_id', 'a-1')] })).toBeNull();
  });
});
