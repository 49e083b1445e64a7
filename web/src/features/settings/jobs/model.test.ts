import { describe, expect, it } from 'vitest';
import { canCancel, canDiscard, canRetry, JOB_STATES, payloadText, stateLabel } from './model';
import { en, zh } from '../../../i18n/messages';

describe('job actions by state', () => {
  it('offers each action only where the server allows it', () => {
    expect(JOB_STATES.filter(canRetry)).toEqual(['failed', 'dead']);
    expect(JOB_STATES.filter(canCancel)).toEqual(['pending', 'running', 'failed']);
    expect(JOB_STATES.filter(canDiscard)).toEqual(['dead', 'cancelled']);
  });

  it('names every state in both languages', () => {
    for (const state of JOB_STATES) {
      expect(en[stateLabel(state)]).toBeTruthy();
      expect(zh[stateLabel(state)]).toBeTruthy();
    }
  });

  it('shows payloads as indented JSON text', () => {
    expect(payloadText({ html: '<img src=x onerror=alert(1)>' })).toBe('{\n  "html": "<img src=x onerror=alert(1)>"\n}');
    expect(payloadText(undefined)).toBe('null');
  });
});
