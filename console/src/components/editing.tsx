import { ApiError } from '../lib/api';
import { messages, useT } from '../lib/i18n';
import { ErrorBox, Field } from './ui';

const m = messages(
  {
    badJson: 'Not valid JSON: {message}',
    refused: 'The service refused this ({code}):',
  },
  {
    badJson: 'JSON 格式有误：{message}',
    refused: '服务拒绝了此次提交（{code}）：',
  },
);

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** The operator's JSON, parsed on the client first so a typo is named before anything is sent. */
export function parseJson(text: string): Parsed {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** A labelled JSON textarea that says at once when its text does not parse. */
export function JsonField({ label, value, onInput, rows = 8, hint }: { label: string; value: string; onInput: (text: string) => void; rows?: number; hint?: string }) {
  const t = useT(m);
  const parsed = parseJson(value);
  return (
    <Field label={label} hint={hint} problem={parsed.ok ? undefined : t('badJson', { message: parsed.error })}>
      <textarea rows={rows} value={value} spellcheck={false} aria-invalid={!parsed.ok} onInput={(e) => onInput(e.currentTarget.value)} />
    </Field>
  );
}

/**
 * What the service said about a refused change: a 400 VALIDATION_FAILED lists each failing path with its message, next
 * to the editor; any other error is shown as the usual error box.
 */
export function Refusal({ error }: { error: Error | undefined }) {
  const t = useT(m);
  if (!error) return null;
  const issues = error instanceof ApiError ? validationIssues(error) : [];
  if (!issues.length) return <ErrorBox error={error} />;
  return (
    <div class="state error refusal" role="alert">
      <p>{t('refused', { code: (error as ApiError).code })}</p>
      <ul>
        {issues.map((i) => (
          <li key={`${i.path}:${i.message}`}>
            <code>{i.path}</code>: {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function validationIssues(error: ApiError): { path: string; message: string }[] {
  const details = error.details as { issues?: { path: string; message: string }[] } | undefined;
  return Array.isArray(details?.issues) ? details.issues : [];
}

/** A number field's text as the API wants it: blank is absent, a number is a number, anything else goes as typed so the service names it. */
export function numberOrText(text: string): number | string | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** Drops the keys whose value is undefined, so optional fields left blank are not sent. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
