// The stage path of a record with a pipeline: its stages as a row of steps, those passed and
// the current one marked, a won or lost close in its colour. Clicking a stage moves the record
// there (the server sets the win probability of the new stage).
import type { FieldDef, ObjectDef, RecordBody } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import { stageStates } from './pipeline';
import { useRecordPatch } from './useRecordPatch';

export function StagePath({ object, field, record }: { object: ObjectDef; field: FieldDef; record: RecordBody }) {
  const { t, label } = useI18n();
  const { patch, busy } = useRecordPatch();
  const options = field.config?.options ?? [];
  const states = stageStates(field, record.values[field.api_name]);
  return (
    <nav className="stage-path" aria-label={t('record.stagePath')} data-testid="stage-path">
      {states.map(({ value, state }) => {
        const option = options.find((o) => o.value === value);
        const name = option ? label(option.label) : value;
        const current = state === 'current' || state === 'won' || state === 'lost';
        return (
          <button
            key={value}
            type="button"
            className={`stage-path-step stage-${state}`}
            aria-current={current ? 'step' : undefined}
            disabled={busy !== null || current}
            data-stage={value}
            title={option?.probability !== undefined && option.probability !== null ? `${name} · ${option.probability}%` : name}
            onClick={() => void patch(object.api_name, record, { [field.api_name]: value }, t('record.stageMoved', { stage: name }))}
          >
            {name}
          </button>
        );
      })}
    </nav>
  );
}
