import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/**
 * Chinese (zh-CN) and English. Each screen keeps its own messages next to it, written once per language; the zh-CN
 * half must name every key of the English half (the type checks it), so no screen shows a key instead of words.
 *
 *     const m = messages({ title: 'Members' }, { title: '会员' });
 *     const t = useT(m); t('title')
 */
export type Locale = 'en' | 'zh-CN';
export const LOCALES: Locale[] = ['en', 'zh-CN'];
const KEY = 'console.locale';

export type Bundle<K extends string> = Record<Locale, Record<K, string>>;

export const messages = <K extends string>(en: Record<K, string>, zh: Record<K, string>): Bundle<K> => ({ en, 'zh-CN': zh });

export function initialLocale(): Locale {
  const saved = localStorage.getItem(KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function rememberLocale(locale: Locale): void {
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}

export const LocaleContext = createContext<Locale>('en');
export const useLocale = (): Locale => useContext(LocaleContext);

/** `{name}` in a message is replaced by `vars.name`. */
export function useT<K extends string>(bundle: Bundle<K>): (key: K, vars?: Record<string, string | number>) => string {
  const locale = useLocale();
  return (key, vars) => {
    const text = bundle[locale][key];
    return vars ? text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`)) : text;
  };
}
