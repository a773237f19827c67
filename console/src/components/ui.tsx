import { cloneElement, type ComponentChildren, type VNode } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { common } from '../lib/common.messages';
import type { Pages } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { useFormat } from '../lib/session';

export function Loading() {
  const t = useT(common);
  return (
    <p class="state loading" role="status" aria-live="polite">
      {t('loading')}
    </p>
  );
}

export function Empty({ children }: { children?: ComponentChildren }) {
  const t = useT(common);
  return <p class="state empty">{children ?? t('empty')}</p>;
}

/** An API error in words: a 403 says what is missing; every error names its code and request id for a support ticket. */
export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  const t = useT(common);
  const api = error instanceof ApiError ? error : undefined;
  const text = api?.status === 403 ? t('forbidden', { message: api.message }) : t('error', { message: error.message });
  return (
    <div class="state error" role="alert">
      <p>
        {text}
        {api && (
          <small>
            {' '}
            [{api.code}
            {api.requestId ? `, ${t('requestId', { id: api.requestId })}` : ''}]
          </small>
        )}
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
}

/** The loading, empty and error states of a cursor list, and its "load more". */
export function PagesFooter<T>({ pages, emptyText }: { pages: Pages<T>; emptyText?: string }) {
  const t = useT(common);
  if (pages.state === 'error') return <ErrorBox error={pages.error!} retry={pages.reload} />;
  if (pages.state === 'loading') return <Loading />;
  if (pages.items.length === 0) return <Empty>{emptyText}</Empty>;
  if (!pages.more) return null;
  return (
    <button type="button" class="more" onClick={pages.loadMore}>
      {t('loadMore')}
    </button>
  );
}

/**
 * A cursor list as a table: the head's columns, one row per item loaded so far, then the list's loading, empty and
 * error states and its "load more".
 *
 *     <PagedTable pages={pages} head={<th>{t('at')}</th>} row={(r) => <tr key={r.id}><td>{r.at}</td></tr>} />
 */
export function PagedTable<T>({ pages, head, row, emptyText, class: className }: {
  pages: Pages<T>;
  head: ComponentChildren;
  row: (item: T) => VNode;
  emptyText?: string;
  class?: string;
}) {
  return (
    <>
      {pages.items.length > 0 && (
        <table class={className}>
          <thead>
            <tr>{head}</tr>
          </thead>
          <tbody>{pages.items.map(row)}</tbody>
        </table>
      )}
      <PagesFooter pages={pages} emptyText={emptyText} />
    </>
  );
}

/** What the form found wrong before anything was sent, if anything. */
export function Problem({ text }: { text: string | undefined }) {
  if (!text) return null;
  return (
    <p class="state error" role="alert">
      {text}
    </p>
  );
}

/** An instant in the program's time zone; UTC on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  const f = useFormat();
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={f.utc(iso)}>
      {f.dateTime(iso)}
    </time>
  );
}

/**
 * A labelled input. Its hint and problem (if any) sit outside the label, so the input's name is its label alone and
 * they are its description (aria-describedby). The markup is the same with or without them, so an input that gets a
 * problem while typed in keeps its focus.
 *
 *     <Field label="Stock" hint="Blank is unlimited."><input value={stock} /></Field>
 */
export function Field({ label, hint, problem, children }: { label: string; hint?: string | undefined; problem?: string | undefined; children: VNode }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', problem ? `${id}-problem` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {cloneElement(children, { id, 'aria-describedby': described || undefined })}
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {problem && (
        <small id={`${id}-problem`} class="state error" role="alert">
          {problem}
        </small>
      )}
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel">
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}
