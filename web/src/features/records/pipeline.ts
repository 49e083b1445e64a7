// A pipeline is an object's select field whose options carry win probabilities (a deal's
// stages); the server copies the stage's probability to the `probability` field when a
// record moves. Closed stages (probability 0 or 100) end the path.
import type { FieldDef, ObjectDef } from '../../api/types';

export function pipelineField(object: ObjectDef): FieldDef | undefined {
  return object.fields.find(
    (f) => f.type === 'select' && !f.archived_at && (f.config?.options ?? []).some((o) => o.probability !== undefined && o.probability !== null),
  );
}

export type StageState = 'done' | 'current' | 'todo' | 'won' | 'lost';

// Where each stage stands for a record at `current`: stages before it are done, a won or lost
// close is shown as such, and the other closed stage is simply not taken.
export function stageStates(field: FieldDef, current: unknown): { value: string; state: StageState }[] {
  const options = field.config?.options ?? [];
  const at = options.findIndex((o) => o.value === current);
  const closed = at >= 0 && isClosed(options[at].probability);
  return options.map((o, i) => {
    if (i === at) return { value: o.value, state: closed ? (o.probability === 0 ? 'lost' : 'won') : 'current' };
    if (at >= 0 && i < at && !isClosed(o.probability)) return { value: o.value, state: 'done' };
    return { value: o.value, state: 'todo' };
  });
}

function isClosed(probability: number | null | undefined): boolean {
  return probability === 0 || probability === 100;
}
