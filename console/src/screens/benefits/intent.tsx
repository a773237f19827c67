import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ErrorBox } from '../../components/ui';
import { newKey } from '../../lib/api';
import { common } from '../../lib/common.messages';
import { useT } from '../../lib/i18n';

export type Intent<A> = {
  /** What is being asked, while the confirm step is open. */
  pending: A | null;
  busy: boolean;
  error: Error | undefined;
  open: (arg: A) => void;
  confirm: () => void;
  cancel: () => void;
};

/**
 * A change the operator asks for, then confirms. The confirm step gets ONE Idempotency-Key when it opens, reused by
 * every click and retry of it, so a double click or a retry after a lost answer changes things once; a second click
 * while the first is in flight is ignored (and the button is disabled).
 *
 *     const approve = useIntent((note: string, key) => call('POST', path, { body: { note }, idempotencyKey: key }), reload);
 */
export function useIntent<A>(perform: (arg: A, key: string) => Promise<unknown>, done?: () => void): Intent<A> {
  const [pending, setPending] = useState<{ arg: A; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const inFlight = useRef(false);
  return {
    pending: pending?.arg ?? null,
    busy,
    error,
    open: (arg) => {
      setError(undefined);
      setPending({ arg, key: newKey() });
    },
    confirm: () => {
      if (!pending || inFlight.current) return;
      inFlight.current = true;
      setBusy(true);
      setError(undefined);
      perform(pending.arg, pending.key)
        .then(
          () => {
            setPending(null);
            done?.();
          },
          (err: Error) => setError(err),
        )
        .finally(() => {
          inFlight.current = false;
          setBusy(false);
        });
    },
    cancel: () => {
      if (!inFlight.current) setPending(null);
    },
  };
}

/** The confirm step of an intent: what will happen, then Confirm / Cancel. */
export function ConfirmStep<A>({ intent, label, children, danger }: { intent: Intent<A>; label: string; children: ComponentChildren; danger?: boolean }) {
  const t = useT(common);
  if (intent.pending === null) return null;
  return (
    <div class="confirm" role="group" aria-label={label}>
      <p>{children}</p>
      {intent.error && <ErrorBox error={intent.error} />}
      <div class="row">
        <button type="button" class={danger ? 'danger' : 'primary'} disabled={intent.busy} onClick={intent.confirm}>
          {label}
        </button>
        <button type="button" disabled={intent.busy} onClick={intent.cancel}>
          {t('cancel')}
        </button>
        {intent.busy && <span role="status">{t('saving')}</span>}
      </div>
    </div>
  );
}
