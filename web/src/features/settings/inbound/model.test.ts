import { describe, expect, it } from 'vitest';
import type { FieldDef, ObjectDef } from '../../../api/types';
import type { Hook } from './api';
import { fieldRepeated, hookForm, hookInput, hookUrl, matchFields, parseSource, payloadText, sourceOf, targetFields, validPointer } from './model';

const field = (api_name: string, type: FieldDef['type'], more: Partial<FieldDef> = {}): FieldDef => ({ api_name, type, label: { en: api_name, zh: api_name }, ...more });

const DEAL: ObjectDef = {
  api_name: 'deal',
  name_field: 'name',
  label: { en: 'Deal', zh: '商机' },
  plural_label: { en: 'Deals', zh: '商机' },
  fields: [
    field('name', 'text'),
    field('erp_order_no', 'text'),
    field('contact_email', 'email'),
    field('order_status', 'select'),
    field('score', 'formula'),
    field('number', 'auto_number'),
    field('old_no', 'text', { archived_at: '2025-01-01T00:00:00Z' }),
  ],
};

const HOOK: Hook = {
  id: 'h1',
  name: 'ERP 发货回传',
  path: '/api/v1/hooks/h1',
  object: 'deal',
  auth: 'token',
  match_field: 'erp_order_no',
  mapping: { erp_order_no: '/orderNo', order_status: '/status | map:ERP' },
  enabled: false,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

describe('the fields of a hook', () => {
  it('writes the active fields the server does not compute, and finds records by text, email or phone', () => {
    expect(targetFields(DEAL).map((f) => f.api_name)).toEqual(['name', 'erp_order_no', 'contact_email', 'order_status']);
    expect(matchFields(DEAL).map((f) => f.api_name)).toEqual(['name', 'erp_order_no', 'contact_email']);
    expect(targetFields(undefined)).toEqual([]);
  });
});

describe('the mapping', () => {
  it('reads a source as a pointer and the system translating it, and writes it back', () => {
    expect(parseSource('/status | map:ERP')).toEqual({ pointer: '/status', system: 'ERP' });
    expect(parseSource(' /orderNo ')).toEqual({ pointer: '/orderNo' });
    expect(parseSource(42)).toEqual({ pointer: '' });
    expect(sourceOf({ field: 'order_status', pointer: ' /status ', system: ' ERP ' })).toBe('/status | map:ERP');
    expect(sourceOf({ field: 'name', pointer: '/customer/name', system: ' ' })).toBe('/customer/name');
  });

  it('takes JSON pointers only, and each field once', () => {
    expect(validPointer('/a/b')).toBe(true);
    expect(validPointer('')).toBe(true);
    expect(validPointer('orderNo')).toBe(false);
    const rows = [{ field: 'name' }, { field: 'name' }, { field: 'erp_order_no' }, {}];
    expect(fieldRepeated(rows, 0)).toBe(true);
    expect(fieldRepeated(rows, 2)).toBe(false);
    expect(fieldRepeated(rows, 3)).toBe(false);
  });
});

describe('the form', () => {
  it('shows a hook as rows, a new one with one empty row', () => {
    expect(hookForm(HOOK)).toEqual({
      name: 'ERP 发货回传',
      object: 'deal',
      auth: 'token',
      match_field: 'erp_order_no',
      mapping: [{ field: 'erp_order_no', pointer: '/orderNo' }, { field: 'order_status', pointer: '/status', system: 'ERP' }],
      enabled: false,
    });
    expect(hookForm(null)).toEqual({ name: '', object: undefined, auth: 'standard_webhooks', match_field: undefined, mapping: [{}], enabled: true });
  });

  it('sends the mapping as sources, no match field as null, and a hook\'s own auth on a change', () => {
    const values = { ...hookForm(HOOK), name: ' ERP ', auth: 'standard_webhooks' as const, match_field: undefined, mapping: [...hookForm(HOOK).mapping, {}] };
    expect(hookInput(values, HOOK)).toEqual({
      name: 'ERP',
      object: 'deal',
      auth: 'token',
      match_field: null,
      mapping: { erp_order_no: '/orderNo', order_status: '/status | map:ERP' },
      enabled: false,
    });
    expect(hookInput(values, null).auth).toBe('standard_webhooks');
  });
});

describe('what the page shows', () => {
  it('gives senders the full address', () => {
    expect(hookUrl('https://crm.example.cn/', HOOK)).toBe('https://crm.example.cn/api/v1/hooks/h1');
  });

  it('indents a JSON payload and keeps any other text as it came', () => {
    expect(payloadText('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(payloadText('not json <b>')).toBe('not json <b>');
    expect(payloadText('')).toBe('');
  });
});
