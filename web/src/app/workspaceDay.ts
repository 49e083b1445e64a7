// The workspace's calendar day: "today" for due dates and "overdue" is the day where the
// company works (its UTC offset), not where the browser happens to be.

/** Today in the workspace's time zone, as `YYYY-MM-DD`. */
export function workspaceToday(utcOffsetMinutes: number, now: number = Date.now()): string {
  return new Date(now + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}
