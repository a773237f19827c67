import { createContext } from 'preact';
import { useContext, useMemo } from 'preact/hooks';
import { formatter, type Formatter } from './format';
import { useLocale } from './i18n';

/** The program's calendar, read once after sign-in from GET /v1/admin/stats/calendar. */
export type Calendar = { timezone: string; today: string; now: string };

export type Session = { calendar: Calendar; sub: string | undefined };
export const SessionContext = createContext<Session>({ calendar: { timezone: 'UTC', today: '1970-01-01', now: '' }, sub: undefined });
export const useSession = (): Session => useContext(SessionContext);

/** Numbers and times in the chosen locale and the program's zone. */
export function useFormat(): Formatter {
  const locale = useLocale();
  const { calendar } = useSession();
  return useMemo(() => formatter(locale, calendar.timezone), [locale, calendar.timezone]);
}
