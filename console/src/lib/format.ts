import type { Locale } from './i18n';

/** Numbers, dates and times in the operator's chosen locale; times in the program's time zone (UTC on hover). */
export function formatter(locale: Locale, timezone: string) {
  const number = new Intl.NumberFormat(locale);
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 });
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone: timezone, dateStyle: 'medium', timeStyle: 'medium' });
  const date = new Intl.DateTimeFormat(locale, { timeZone: 'UTC', dateStyle: 'medium' });
  return {
    number: (n: number | null | undefined): string => (n === null || n === undefined ? '—' : number.format(n)),
    percent: (r: number | null | undefined): string => (r === null || r === undefined ? '—' : percent.format(r)),
    /** An instant, in the program's zone. */
    dateTime: (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—'),
    /** A calendar day (YYYY-MM-DD) of the program's calendar, as it is: no zone shifts it. */
    day: (day: string | null | undefined): string => (day ? date.format(new Date(`${day}T00:00:00Z`)) : '—'),
    utc: (iso: string): string => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
  };
}
export type Formatter = ReturnType<typeof formatter>;

/** Days as the API counts them: YYYY-MM-DD, arithmetic in UTC so no zone moves a day. */
export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
