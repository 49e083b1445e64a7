// The records a user opened last ("my recent records" on the home page), newest first, at most
// ten, kept in the browser per user: a visit is the user's own business, not the server's.
export interface RecentRecord {
  object: string;
  id: string;
  name: string | null;
}

const MAX = 10;
const keyOf = (userId: string) => `rapport.recent.${userId}`;

export function recentRecords(userId: string, storage: Pick<Storage, 'getItem'> = localStorage): RecentRecord[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(keyOf(userId)) ?? '[]');
    return Array.isArray(parsed)
      ? parsed.filter((r): r is RecentRecord => typeof r?.object === 'string' && typeof r?.id === 'string').slice(0, MAX)
      : [];
  } catch {
    return [];
  }
}

export function rememberRecord(userId: string, visit: RecentRecord, storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): void {
  const rest = recentRecords(userId, storage).filter((r) => !(r.object === visit.object && r.id === visit.id));
  try {
    storage.setItem(keyOf(userId), JSON.stringify([visit, ...rest].slice(0, MAX)));
  } catch {
    // A full or disabled storage only loses the list.
  }
}
