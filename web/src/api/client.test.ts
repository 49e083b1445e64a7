import { describe, expect, it } from 'vitest';
import { apiPath, pathSegment } from './client';

describe('apiPath', () => {
  it('keeps ordinary names and ids as they are', () => {
    expect(apiPath`/api/v1/objects/${'contact'}/records/${'01a2-b3'}`).toBe('/api/v1/objects/contact/records/01a2-b3');
  });

  it('encodes what could leave the segment', () => {
    // `/o/contact/%2E%2E%2F…` in the address bar gives the app `../…` as a record id.
    expect(apiPath`/api/v1/objects/contact/records/${'../../../users'}`).toBe('/api/v1/objects/contact/records/..%2F..%2F..%2Fusers');
    expect(apiPath`/api/v1/cdp/contacts/${'x'}/tags/${'a/b?c=d#e'}`).toBe('/api/v1/cdp/contacts/x/tags/a%2Fb%3Fc%3Dd%23e');
    expect(new URL(apiPath`/api/v1/objects/${'a/../../users'}/records`, 'http://h').pathname).toBe('/api/v1/objects/a%2F..%2F..%2Fusers/records');
  });

  it('refuses dot segments and empty values', () => {
    for (const bad of ['.', '..', '']) expect(() => pathSegment(bad)).toThrow();
  });
});
