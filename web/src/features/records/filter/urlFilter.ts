// The filter of a list or kanban kept in the URL (`?filter=<condition JSON>`), so a shared link
// or a reload reproduces the view: read back as a builder tree, written as a condition.
import { fromCondition, toCondition, type Group } from './conditionModel';

/** The URL's filter as a builder tree; none (null) when absent or unreadable. */
export function readUrlFilter(text: string | null): Group | null {
  if (!text) return null;
  try {
    return fromCondition(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * `params` with `filter` written in; an empty filter is removed, unless `keepEmpty` (a view
 * with a filter of its own, which would otherwise come back), then it is an empty condition.
 */
export function withUrlFilter(params: URLSearchParams, filter: Group, keepEmpty = false): URLSearchParams {
  const next = new URLSearchParams(params);
  const condition = toCondition(filter);
  if (condition) next.set('filter', JSON.stringify(condition));
  else if (keepEmpty) next.set('filter', JSON.stringify({ all: [] }));
  else next.delete('filter');
  return next;
}
