import { describe, expect, it } from 'vitest';
import { periodEnd, periodKey, type LimitPeriod } from '../../src/modules/benefits/index.js';

const KIRITIMATI = 'Pacific/Kiritimati'; // UTC+14, the first place to reach a new day
const HONOLULU = 'Pacific/Honolulu'; // UTC−10, among the last
/** The last millisecond before a boundary. */
const before = (iso: string) => new Date(Date.parse(iso) - 1);
const at = (iso: string) => new Date(iso);
const keys = (period: LimitPeriod, zone: string, boundary: string) => [periodKey(period, before(boundary), zone), periodKey(period, at(boundary), zone)];

describe('limit periods in the member’s calendar', () => {
  it('when a member in UTC+14 passes local midnight, then the day changes at 10:00 UTC the day before, and the period ends there', () => {
    // 2026-03-02T00:00+14:00
    expect(keys('day', KIRITIMATI, '2026-03-01T10:00:00Z')).toEqual(['2026-03-01', '2026-03-02']);
    expect(periodEnd('day', before('2026-03-01T10:00:00Z'), KIRITIMATI)).toEqual(at('2026-03-01T10:00:00Z'));
    expect(periodEnd('day', at('2026-03-01T10:00:00Z'), KIRITIMATI)).toEqual(at('2026-03-02T10:00:00Z'));
  });

  it('when a member in UTC−10 passes local midnight, then the day changes at 10:00 UTC the same day', () => {
    // 2026-03-02T00:00−10:00
    expect(keys('day', HONOLULU, '2026-03-02T10:00:00Z')).toEqual(['2026-03-01', '2026-03-02']);
    expect(periodEnd('day', before('2026-03-02T10:00:00Z'), HONOLULU)).toEqual(at('2026-03-02T10:00:00Z'));
  });

  it('when one instant is read in both zones, then the two members are on different calendar days', () => {
    const noon = at('2026-03-01T12:00:00Z');
    expect(periodKey('day', noon, KIRITIMATI)).toBe('2026-03-02');
    expect(periodKey('day', noon, HONOLULU)).toBe('2026-03-01');
    expect(periodKey('day', noon, 'UTC')).toBe('2026-03-01');
  });

  it('when a Sunday turns into Monday, then the ISO week changes at the member’s midnight', () => {
    // Monday 2026-03-02 in each zone.
    expect(keys('week', KIRITIMATI, '2026-03-01T10:00:00Z')).toEqual(['2026-W09', '2026-W10']);
    expect(keys('week', HONOLULU, '2026-03-02T10:00:00Z')).toEqual(['2026-W09', '2026-W10']);
    expect(periodEnd('week', at('2026-03-01T09:00:00Z'), KIRITIMATI)).toEqual(at('2026-03-01T10:00:00Z'));
    expect(periodEnd('week', at('2026-02-24T00:00:00Z'), HONOLULU)).toEqual(at('2026-03-02T10:00:00Z'));
  });

  it('when a week straddles New Year, then it belongs to its ISO week-numbering year, not the calendar year', () => {
    // Monday 2025-12-29 starts 2026-W01 (1 January 2026 is a Thursday).
    expect(keys('week', KIRITIMATI, '2025-12-28T10:00:00Z')).toEqual(['2025-W52', '2026-W01']);
    expect(periodKey('year', at('2025-12-28T10:00:00Z'), KIRITIMATI)).toBe('2025');
    // 2026 has 53 ISO weeks: Sunday 3 January 2027 is still 2026-W53; Monday 4 January starts 2027-W01.
    expect(keys('week', HONOLULU, '2027-01-04T10:00:00Z')).toEqual(['2026-W53', '2027-W01']);
    expect(periodKey('year', at('2027-01-04T10:00:00Z'), HONOLULU)).toBe('2027');
  });

  it('when New Year comes, then the year and month change at each zone’s own midnight, 24 hours apart in UTC', () => {
    expect(keys('year', KIRITIMATI, '2026-12-31T10:00:00Z')).toEqual(['2026', '2027']);
    expect(keys('month', KIRITIMATI, '2026-12-31T10:00:00Z')).toEqual(['2026-12', '2027-01']);
    expect(periodEnd('year', at('2026-06-01T00:00:00Z'), KIRITIMATI)).toEqual(at('2026-12-31T10:00:00Z'));
    expect(keys('year', HONOLULU, '2027-01-01T10:00:00Z')).toEqual(['2026', '2027']);
    expect(keys('month', HONOLULU, '2027-01-01T10:00:00Z')).toEqual(['2026-12', '2027-01']);
    expect(periodEnd('month', at('2026-12-15T00:00:00Z'), HONOLULU)).toEqual(at('2027-01-01T10:00:00Z'));
    // At 10:00 UTC on 31 December, Kiritimati is in 2027 and Honolulu has only just begun the 31st.
    expect(periodKey('year', at('2026-12-31T10:00:00Z'), HONOLULU)).toBe('2026');
  });

  it('when a month is short, then it ends at the member’s first of the next month', () => {
    expect(keys('month', HONOLULU, '2026-03-01T10:00:00Z')).toEqual(['2026-02', '2026-03']);
    expect(periodEnd('month', at('2026-02-10T00:00:00Z'), HONOLULU)).toEqual(at('2026-03-01T10:00:00Z'));
  });

  it('when the period is a lifetime, then every instant shares one key and it never ends', () => {
    expect(periodKey('lifetime', at('2000-01-01T00:00:00Z'), KIRITIMATI)).toBe('life');
    expect(periodKey('lifetime', at('2099-01-01T00:00:00Z'), HONOLULU)).toBe('life');
    expect(periodEnd('lifetime', at('2026-03-01T00:00:00Z'), HONOLULU)).toBeNull();
  });

  it('when the zone is unknown, then it throws rather than keying a period "Invalid DateTime"', () => {
    expect(() => periodKey('day', at('2026-03-01T00:00:00Z'), 'Mars/Olympus')).toThrow(/time zone/);
    expect(() => periodEnd('day', at('2026-03-01T00:00:00Z'), 'Mars/Olympus')).toThrow(/time zone/);
  });
});
