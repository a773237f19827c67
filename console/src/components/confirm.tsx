import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { newKey } from '../lib/api';
import { common } from '../lib/common.messages';
import { useT } from '../lib/i18n';
import { Refusal } from './editing';

/** A change the operator asks for, then confirms: see useIntent. */
export type Intent<A> = {
  /** True while the confirm step is open. */
  asking: boolean;
  /** What is asked, while the confirm step is open. */
  asked: A | undefined;
  /** True while the confirmed change is in flight. */
  busy: boolean;
  /** The service's refusal of the last confirm, until the next ask or cancel. */
  error: Error | undefined;
  ask: (arg: A) => void;
  confirm: () => void;
  cancel: () => void;
};

/**
 * A change the operator asks for, then confirms. Each ask opens the confirm step with ONE Idempotency-Key, passed to
 * `perform` by every click and retry of that step, so a double click or a retry after a lost answer changes things
 * once (a route that ignores the key is simply not sent it). A second click while the first is in flight is ignored,
 * even in the same instant, before the disabled button is drawn. On success the step closes and `done` gets the answer.
 * A refusal stays in the step for a retry, unless `closeOnRefusal`: an editor whose refusal names fields of its draft
 * closes the step and shows the refusal beside the draft (<Refusal error={intent.error} />), to be edited first.
 *
 *     const approve = useIntent((note: string, key) => call('POST', path, { body: { note }, idempotencyKey: key }), reload);
 *     const save = useIntent(() => call('PUT', path, { body }), onSaved, { closeOnRefusal: true });
 */
export function useIntent<A = void, R = unknown>(
  perform: (arg: A, key: string) => Promise<R>,
  done?: (result: R) => void,
  { closeOnRefusal = false }: { closeOnRefusal?: boolean } = {},
): Intent<A> {
  const [open, setOpen] = useState<{ arg: A; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  // The state update that disables the button lands after the click's event; this guard holds from the first click on.
  const inFlight = useRef(false);
  return {
    asking: open !== null,
    asked: open?.arg,
    busy,
    error,
    ask: (arg) => {
      setError(undefined);
      setOpen({ arg, key: newKey() });
    },
    confirm: () => {
      if (!open || inFlight.current) return;
      inFlight.current = true;
      setBusy(true);
      setError(undefined);
      perform(open.arg, open.key)
        .then(
          (result) => {
            setOpen(null);
            done?.(result);
          },
          (err: Error) => {
            if (closeOnRefusal) setOpen(null);
            setError(err);
          },
        )
        .finally(() => {
          inFlight.current = false;
          setBusy(false);
        });
    },
    cancel: () => {
      if (inFlight.current) return;
      setOpen(null);
      setError(undefined);
    },
  };
}

/**
 * The confirm step of an intent, while it is open: the question, the service's refusal if any, then the confirm button
 * (focused when the step opens, disabled while the change is in flight) and Cancel. The step is a dialog named by its
 * confirm button's words (or `name`) and described by its question; `role="group"` where it reads as the last step
 * of the form above it.
 *
 *     <ConfirmStep intent={restock} label={t('confirmRestock')}>{t('restockConfirm', { units })}</ConfirmStep>
 */
export function ConfirmStep<A>({ intent, label, name = label, role = 'dialog', danger, refusal, children }: {
  intent: Intent<A>;
  label: string;
  name?: string;
  role?: 'dialog' | 'group';
  danger?: boolean;
  /** The refusal in a screen's own words; <Refusal/> otherwise. */
  refusal?: (error: Error) => ComponentChildren;
  children: ComponentChildren;
}) {
  const t = useT(common);
  const question = useId();
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (intent.asking) button.current?.focus();
  }, [intent.asking]);
  if (!intent.asking) return null;
  return (
    <div class="confirm" role={role} aria-label={name} aria-describedby={question}>
      <p id={question}>{children}</p>
      {intent.error && (refusal ? refusal(intent.error) : <Refusal error={intent.error} />)}
      <div class="row">
        <button ref={button} type="button" class={danger ? 'danger' : 'primary'} disabled={intent.busy} onClick={intent.confirm}>
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
