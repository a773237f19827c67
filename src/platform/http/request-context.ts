import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';

const acceptable = /^[\x21-\x7e]{1,128}$/;

/** Gives every request an id (the caller's X-Request-Id when it is sane), a logger child and a timing log line. */
export function requestContext(logger: Logger): Middleware {
  return async (ctx, next) => {
    const given = ctx.get('X-Request-Id');
    const requestId = acceptable.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const log = logger.child({ requestId });
    ctx.state.log = log;
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: ctx.method, path: ctx.path, route: ctx.state.routePath, status: ctx.status, ms: Math.round(ms * 10) / 10 }, 'request');
    }
  };
}
