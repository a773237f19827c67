import { clearToken, getToken } from './auth';

/** An answer other than 2xx, as the API's one error shape gives it: `{ error: { code, message, details? }, requestId }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null | string[]>;
export type CallOptions = { query?: Query; body?: unknown; idempotencyKey?: string };

const listeners = new Set<() => void>();
/** Called when the service answers 401: the token expired or was refused; the app goes back to sign-in. */
export const onSignedOut = (fn: () => void): (() => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * Calls the public /v1 API with the operator's token; the console has no other way in.
 *
 *     const member = await call<Member>('GET', `/v1/members/${id}`);
 */
export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(`${path}${queryString(opts.query)}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', (err as Error).message);
  }
  const text = await res.text();
  const body = text ? safeJson(text) : undefined;
  if (res.ok) return body as T;
  const error = (body as { error?: { code?: string; message?: string; details?: unknown }; requestId?: string } | undefined) ?? {};
  if (res.status === 401) {
    clearToken();
    for (const fn of listeners) fn();
  }
  throw new ApiError(res.status, error.error?.code ?? `HTTP_${res.status}`, error.error?.message ?? res.statusText, error.error?.details, error.requestId);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A fresh Idempotency-Key: one per intended change, reused by every retry and double click of that change. */
export const newKey = (): string => crypto.randomUUID();

/** A page of a cursor-paginated list, as every list route answers. */
export type Page<T> = { items: T[]; nextCursor: string | null };
