// The totals row of a list: the sum of every shown number and currency column over the whole
// filtered list (not just the page), from the aggregate endpoint, exact and per currency.
import { Table, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { api, apiPath } from '../../api/client';
import type { AggregateResult, FieldDef, Money, ObjectDef } from '../../api/types';
import { useI18n } from '../../i18n/I18nProvider';
import type { Condition } from './filter/conditionModel';

const SUMMED = ['integer', 'decimal', 'currency'];
const MAX_SUMS = 10;

export function summedColumns(object: ObjectDef, columns: string[]): FieldDef[] {
  return columns
    .map((name) => object.fields.find((f) => f.api_name === name && !f.archived_at))
    .filter((f): f is FieldDef => Boolean(f) && SUMMED.includes((f as FieldDef).type))
    .slice(0, MAX_SUMS);
}

function useListTotals(object: ObjectDef, condition: Condition | null, columns: string[]) {
  const summed = summedColumns(object, columns);
  const totals = useQuery({
    queryKey: ['aggregate', object.api_name, 'list-totals', condition, summed.map((f) => f.api_name)],
    enabled: summed.length > 0,
    queryFn: () =>
      api.post<AggregateResult>(apiPath`/api/v1/objects/${object.api_name}/records/aggregate`, {
        filter: condition ?? undefined,
        metrics: summed.map((f) => ({ op: 'sum', field: f.api_name })),
      }),
  });
  return { summed, totals };
}

// The row under the table (inside the table's fixed `Table.Summary`, which the table must see as
// its direct child to keep it in view): "合计" in the first column, each sum under its column.
export function ListTotalsRow({
  object, columns, condition, selectable,
}: {
  object: ObjectDef;
  columns: string[];
  condition: Condition | null;
  selectable: boolean;
}) {
  const i18n = useI18n();
  const { summed, totals } = useListTotals(object, condition, columns);
  if (summed.length === 0) return null;
  const metrics = totals.data?.groups[0]?.metrics ?? [];
  const offset = selectable ? 1 : 0;
  return (
    <Table.Summary.Row data-testid="list-totals">
      {selectable && <Table.Summary.Cell index={0} />}
      {columns.map((name, i) => {
        const at = summed.findIndex((f) => f.api_name === name);
        const value = at >= 0 ? metrics[at] : undefined;
        const field = summed[at];
        return (
          <Table.Summary.Cell key={name} index={i + offset} align={at >= 0 ? 'right' : undefined}>
            {i === 0 ? (
              <Typography.Text strong>{i18n.t('list.totals')}</Typography.Text>
            ) : field && value !== undefined ? (
              <Typography.Text strong className="num" data-field={name}>
                {field.type === 'currency'
                  ? ((value as Money[] | null) ?? []).map((m) => i18n.money(m.amount, m.currency)).join(' + ') || '—'
                  : i18n.number(String(value))}
              </Typography.Text>
            ) : null}
          </Table.Summary.Cell>
        );
      })}
    </Table.Summary.Row>
  );
}
