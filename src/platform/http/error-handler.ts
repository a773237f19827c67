import type { Middleware } from 'koa';
import { AppError } from '../errors.js';
import { isDatabaseClosing, isDatabaseUnavailable } from '../db/connection.js';
import type { Logger } from '../logger.js';

/**
 * The one error path: whatever a layer throws becomes `{error: {code, message, details?}, requestId}`.
 * Only AppErrors with `expose` reveal their message; driver errors and bugs become 503 or a bare 500.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      let err: AppError;
      if (thrown instanceof AppError) err = thrown;
      else if (isDatabaseUnavailable(thrown)) err = new AppError(503, 'UNAVAILABLE', 'the database is unreachable; try again shortly');
      else err = new AppError(500, 'INTERNAL', 'internal error', undefined, false);

      const log = (ctx.state.log as Logger | undefined) ?? logger;
      // A request our own shutdown cut off by closing the client is expected there: a warning, not an error.
      if (err.status >= 500) log[isDatabaseClosing(thrown) ? 'warn' : 'error']({ err: thrown, code: err.code }, 'request failed');
      ctx.status = err.status;
      ctx.body = errorBody(err, ctx.state.requestId as string);
    }
  };
}

/** The §2 error body; the one place it is shaped (the idempotency layer records it for replays). */
export function errorBody(err: AppError, requestId: string) {
  return {
    error: {
      code: err.code,
      message: err.expose ? err.message : 'internal error',
      ...(err.expose && err.details ? { details: err.details } : {}),
    },
    requestId,
  };
}
