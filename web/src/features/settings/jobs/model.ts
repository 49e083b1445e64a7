// What the jobs page shows and allows for a job, from its state (the server decides; these
// only keep buttons for impossible actions out of sight).
import type { MessageKey } from '../../../i18n/messages';
import type { JobState } from './api';

export const JOB_STATES: JobState[] = ['pending', 'running', 'failed', 'done', 'dead', 'cancelled'];

export const STATE_COLOR: Record<JobState, string> = {
  pending: 'blue',
  running: 'processing',
  failed: 'orange',
  done: 'green',
  dead: 'red',
  cancelled: 'default',
};

export function stateLabel(state: JobState): MessageKey {
  return `jobs.state.${state}` as MessageKey;
}

export const canRetry = (state: JobState) => state === 'failed' || state === 'dead';
export const canCancel = (state: JobState) => state === 'pending' || state === 'failed' || state === 'running';
export const canDiscard = (state: JobState) => state === 'dead' || state === 'cancelled';

/** The job's payload as indented JSON text (shown as text, never as markup). */
export function payloadText(payload: unknown): string {
  return JSON.stringify(payload ?? null, null, 2);
}
