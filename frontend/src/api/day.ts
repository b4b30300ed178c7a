// The daily image counts are kept per UTC day (GET /usage, 429 quota_exceeded): when they start
// again, said in the reader's own time with UTC beside it, for the usage note and the quota error alike.

/**
 * When the count starts again, in the reader's own time: "00:00 UTC" alone makes people in other
 * zones do arithmetic. `timeZone` is the reader's (the browser's), given explicitly by tests.
 */
export function resetText(resetsAt: string, timeZone: string): string {
  const at = new Date(resetsAt);
  if (Number.isNaN(at.getTime())) return '00:00 UTC';
  const fmt = (zone: string) =>
    new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone }).format(at);
  const local = fmt(timeZone);
  const utc = fmt('UTC');
  return local === utc ? `${utc} UTC` : `${local} your time (${utc} UTC)`;
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The next 00:00 UTC after `now`: when today's counts start again. */
export function nextUtcMidnight(now: number): string {
  const d = new Date(now);
  d.setUTCHours(24, 0, 0, 0);
  return d.toISOString();
}
