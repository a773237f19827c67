/** The offset of `tz` from UTC at instant `t`, in ms (Shanghai: +8 h). */
function offsetAt(t: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - t;
}

/**
 * A wall-clock time typed in the program's zone (`YYYY-MM-DDTHH:mm`, as a datetime-local input gives it) as the
 * instant the API wants. The offset is read twice, so a time next to a daylight-saving change lands on its side.
 *
 *     zonedInstant('2026-03-01T08:00', 'Asia/Shanghai') // '2026-03-01T00:00:00.000Z'
 */
export function zonedInstant(local: string, tz: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s);
  const first = wall - offsetAt(wall, tz);
  return new Date(wall - offsetAt(first, tz)).toISOString();
}
