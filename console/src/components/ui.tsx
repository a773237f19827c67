import type { ComponentChildren } from 'preact';
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

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small>{hint}</small>}
    </label>
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
