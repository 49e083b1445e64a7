import { describe, expect, it } from 'vitest';
import type { EventType } from './api';
import { eventNames } from './eventNames';

const viewed = {
  name: 'Product Viewed',
  description: '',
  schema: {},
  version: 1,
  created_at: '2026-12-07T00:00:00Z',
  updated_at: '2026-12-07T00:00:00Z',
  label: { zh: '浏览商品', en: 'Product viewed' },
  property_labels: { series: { zh: '系列', en: 'Series' }, address: { zh: '地址', en: 'Address' }, 'address.city': { zh: '收货城市', en: 'Delivery city' } },
} as EventType;
const bare = { ...viewed, name: 'Ad Clicked', label: undefined, property_labels: {} } as EventType;

const zh = (l: { en: string; zh: string } | undefined | null) => (l ? l.zh || l.en : '');
const en = (l: { en: string; zh: string } | undefined | null) => (l ? l.en || l.zh : '');

describe('event names', () => {
  it('names events and properties in the reader’s language', () => {
    expect(eventNames([viewed], zh).event('Product Viewed')).toBe('浏览商品');
    expect(eventNames([viewed], en).event('Product Viewed')).toBe('Product viewed');
    expect(eventNames([viewed], zh).property('Product Viewed', 'series')).toBe('系列');
    expect(eventNames([viewed], en).property('Product Viewed', 'series')).toBe('Series');
  });

  it('names a nested property as a whole, else part by part', () => {
    const names = eventNames([viewed], zh);
    expect(names.property('Product Viewed', 'address.city')).toBe('收货城市');
    expect(names.property('Product Viewed', 'address.zip')).toBe('地址 › zip');
  });

  it('shows what it does not know as it arrived', () => {
    const names = eventNames([viewed, bare], zh);
    expect(names.event('Ad Clicked')).toBe('Ad Clicked');
    expect(names.event('Never Registered')).toBe('Never Registered');
    expect(names.property('Ad Clicked', 'campaign')).toBe('campaign');
    expect(names.event('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });
});
