import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './api';

export type Loaded<T> =
  | { state: 'loading'; data?: undefined; error?: undefined }
  | { state: 'error'; data?: undefined; error: Error }
  | { state: 'ready'; data: T; error?: undefined };

/**
 * Loads once per change of `deps`, and again on `reload()`. An answer to an older request never overwrites a newer one.
 *
 *     const member = useLoad(() => call<Member>('GET', `/v1/members/${id}`), [id]);
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> & { reload: () => void } {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const run = ++latest.current;
    setValue({ state: 'loading' });
    load().then(
      (data) => run === latest.current && setValue({ state: 'ready', data }),
      (error: Error) => run === latest.current && setValue({ state: 'error', error }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...value, reload };
}

export type Pages<T> = {
  items: T[];
  state: 'loading' | 'error' | 'ready';
  error: Error | undefined;
  /** True while a next page exists (the API gave a cursor). */
  more: boolean;
  loadMore: () => void;
  reload: () => void;
};

/**
 * A cursor-paginated list: the first page on each change of `deps`, the next ones appended by `loadMore`, each asked
 * with the cursor the previous page gave.
 *
 *     const audit = usePages((cursor) => call<Page<Record>>('GET', '/v1/admin/audit', { query: { cursor, limit: 50 } }), [actor]);
 */
export function usePages<T>(loadPage: (cursor: string | undefined) => Promise<Page<T>>, deps: unknown[]): Pages<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'error' | 'ready'>('loading');
  const [error, setError] = useState<Error>();
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const fetchPage = (after: string | undefined, append: boolean) => {
    const run = generation.current;
    setState('loading');
    loadPage(after).then(
      (page) => {
        if (run !== generation.current) return;
        setItems((prev) => (append ? [...prev, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setState('ready');
      },
      (err: Error) => {
        if (run !== generation.current) return;
        setError(err);
        setState('error');
      },
    );
  };
  useEffect(() => {
    generation.current += 1;
    setItems([]);
    setCursor(null);
    fetchPage(undefined, false);
  }, [...deps, tick]);
  return {
    items,
    state,
    error,
    more: cursor !== null,
    loadMore: () => cursor && fetchPage(cursor, true),
    reload: () => setTick((n) => n + 1),
  };
}
