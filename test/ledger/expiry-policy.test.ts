import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { expiryFor } from '../../src/modules/ledger/expiry.js';

/** The expiry of an earn, worked out once per local day: the same answer as working it out afresh at every instant. */
describe('expiry policies', () => {
  it('when earns come every 37 minutes across a DST change and two zones, then each gets the period end of its own local day', () => {
    const cases: Array<[string, string, (local: DateTime) => DateTime]> = [
      ['rolling:30:day-end', 'America/New_York', (l) => l.plus({ days: 30 }).endOf('day')],
      ['rolling:365:month-end', 'Asia/Shanghai', (l) => l.plus({ days: 365 }).endOf('month')],
      ['end-of-year-after-next', 'Pacific/Kiritimati', (l) => l.plus({ years: 2 }).endOf('year')],
    ];
    for (const [policy, zone, expected] of cases) {
      // 2026-03-07 to 2026-03-10 UTC holds New York's spring-forward night; every zone sees several local midnights.
      for (let t = Date.parse('2026-03-07T00:00:00Z'); t < Date.parse('2026-03-10T00:00:00Z'); t += 37 * 60_000) {
        const now = new Date(t);
        expect(expiryFor(policy, now, zone)?.toISOString(), `${policy} ${zone} ${now.toISOString()}`).toBe(expected(DateTime.fromJSDate(now, { zone })).toJSDate().toISOString());
      }
    }
  });

  it('when the policy is rolling without rounding, or never, then the expiry follows the instant itself', () => {
    const now = new Date('2026-03-08T06:59:59.123Z');
    expect(expiryFor('rolling:10', now, 'UTC')?.toISOString()).toBe('2026-03-18T06:59:59.123Z');
    expect(expiryFor('never', now, 'UTC')).toBeNull();
  });
});
