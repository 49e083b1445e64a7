// The kanban's column totals after a card moves, before the server's aggregate comes back: one
// less in the old column, one more in the new one, and the card's amount moved with exact
// decimal arithmetic (strings, per currency). Pure, so it is unit-tested.
import type { AggregateGroup, AggregateResult, Money } from '../../api/types';

/** `a + sign × b` on exact decimal strings ("1500.30"), at the larger of the two scales. */
export function addDecimal(a: string, b: string, sign: 1 | -1 = 1): string {
  const scale = Math.max(decimals(a), decimals(b));
  const sum = scaled(a, scale) + BigInt(sign) * scaled(b, scale);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

function decimals(value: string): number {
  const dot = value.indexOf('.');
  return dot < 0 ? 0 : value.length - dot - 1;
}

function scaled(value: string, scale: number): bigint {
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = value.replace(/^[-+]/, '').split('.');
  const magnitude = BigInt(`${whole || '0'}${fraction.padEnd(scale, '0')}`);
  return negative ? -magnitude : magnitude;
}

/** A column's currency sums with `amount` added (sign 1) or taken away (sign -1). */
function moveMoney(sums: Money[], amount: Money | null, sign: 1 | -1): Money[] {
  if (!amount) return sums;
  const found = sums.some((s) => s.currency === amount.currency);
  const next = found
    ? sums.map((s) => (s.currency === amount.currency ? { ...s, amount: addDecimal(s.amount, amount.amount, sign) } : s))
    : [...sums, { amount: addDecimal('0', amount.amount, sign), currency: amount.currency }];
  return next;
}

/**
 * The aggregate with one record moved from the group `from` to the group `to` (null: the
 * records without a value). `amount` is the record's value of the summed currency field, if any.
 */
export function moveInTotals(result: AggregateResult, from: string | null, to: string | null, amount: Money | null): AggregateResult {
  const groups: AggregateGroup[] = result.groups.map((g) => ({ ...g }));
  const groupOf = (key: string | null) => {
    let group = groups.find((g) => g.key === key);
    if (!group) {
      group = { key, count: 0, metrics: amount ? [[]] : [] };
      groups.push(group);
    }
    return group;
  };
  const change = (key: string | null, sign: 1 | -1) => {
    const group = groupOf(key);
    group.count += sign;
    if (amount && group.metrics?.length) {
      group.metrics = [moveMoney((group.metrics[0] as Money[] | null) ?? [], amount, sign), ...group.metrics.slice(1)];
    }
  };
  change(from, -1);
  change(to, 1);
  return { ...result, groups };
}
