import { describe, expect, it } from 'vitest';
import type { FieldDef, ObjectDef } from '../../api/types';
import { pipelineField, stageStates } from './pipeline';

const stage = {
  api_name: 'stage',
  type: 'select',
  label: { en: 'Stage', zh: '销售阶段' },
  config: {
    options: [
      { value: 'prospecting', label: { en: 'P', zh: 'P' }, probability: 10 },
      { value: 'proposal', label: { en: 'Q', zh: 'Q' }, probability: 50 },
      { value: 'closed_won', label: { en: 'W', zh: 'W' }, probability: 100 },
      { value: 'closed_lost', label: { en: 'L', zh: 'L' }, probability: 0 },
    ],
  },
} as unknown as FieldDef;
const plain = { api_name: 'type', type: 'select', label: { en: 'T', zh: 'T' }, config: { options: [{ value: 'a', label: { en: 'a', zh: 'a' } }] } } as unknown as FieldDef;

describe('pipeline', () => {
  it('is the select field whose options carry probabilities', () => {
    expect(pipelineField({ fields: [plain, stage] } as unknown as ObjectDef)?.api_name).toBe('stage');
    expect(pipelineField({ fields: [plain] } as unknown as ObjectDef)).toBeUndefined();
    expect(pipelineField({ fields: [{ ...stage, archived_at: '2026-01-01T00:00:00Z' }] } as unknown as ObjectDef)).toBeUndefined();
  });

  it('marks the stages before the current one done', () => {
    expect(stageStates(stage, 'proposal').map((s) => s.state)).toEqual(['done', 'current', 'todo', 'todo']);
  });

  it('shows a close as won or lost', () => {
    expect(stageStates(stage, 'closed_won').map((s) => s.state)).toEqual(['done', 'done', 'won', 'todo']);
    expect(stageStates(stage, 'closed_lost').map((s) => s.state)).toEqual(['done', 'done', 'todo', 'lost']);
  });

  it('has every stage to do without a stage', () => {
    expect(stageStates(stage, null).map((s) => s.state)).toEqual(['todo', 'todo', 'todo', 'todo']);
  });
});
