// A segment's state as a coloured tag (building, live, archived; unknown states as is).
import { Tag } from 'antd';
import { useI18n, type MessageKey } from '../../i18n/I18nProvider';

const COLORS: Record<string, string> = { live: 'green', building: 'processing', archived: 'default' };

export function StateTag({ state }: { state: string }) {
  const { t } = useI18n();
  const key = `segments.stateName.${state}` as MessageKey;
  const text = t(key);
  return (
    <Tag color={COLORS[state] ?? 'default'} data-testid="segment-state" data-state={state}>
      {text === key ? state : text}
    </Tag>
  );
}
