import { expect } from 'vitest';
import type { ApiResponse } from './app.js';

/** What must never reach a caller: stack frames and database driver text (PRODUCT.md §2). */
const leaks: Array<[string, RegExp]> = [
  ['a stack frame', /^\s+at /m],
  ['driver text', /Mongo|ECONNREFUSED|[Tt]opology|server selection/],
];

/** Asserts that a response carries neither a stack trace nor driver text. */
export function expectNoLeak(res: Pick<ApiResponse, 'text'>): void {
  for (const [what, pattern] of leaks) expect(res.text, `the response leaks ${what}`).not.toMatch(pattern);
}

/**
 * Asserts the one error shape of PRODUCT.md §2, exactly: `{error: {code, message, details?}, requestId}`,
 * as JSON, with the X-Request-Id header naming the same request, and nothing leaked.
 *
 *     expectError(res, 401, 'UNAUTHENTICATED');
 */
export function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.body).sort()).toEqual(['error', 'requestId']);
  const { error, requestId } = res.body;
  expect(Object.keys(error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
  expect(error.code).toBe(code);
  expect(error.message).toBeTypeOf('string');
  expect(error.message.length).toBeGreaterThan(0);
  if ('details' in error) expect(error.details).toBeTypeOf('object');
  expect(requestId).toBeTypeOf('string');
  expect(requestId.length).toBeGreaterThan(0);
  expect(res.headers.get('x-request-id')).toBe(requestId);
  expectNoLeak(res);
}

/** The `details.issues[].path` values of a 400 VALIDATION_FAILED answer. */
export const issuePaths = (res: ApiResponse): string[] =>
  (res.body.error.details.issues as Array<{ path: string }>).map((i) => i.path);
