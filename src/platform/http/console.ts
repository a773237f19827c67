import { existsSync } from 'node:fs';
import type { Middleware } from 'koa';
import send from 'koa-send';
import { AppError } from '../errors.js';

/**
 * Headers for the console's files. The console runs only its own bundled script and talks only to this origin;
 * no page may frame it (clickjacking an adjust button); its token travels in the URL's fragment at most, which no
 * Referer carries, and is kept in session storage.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Serves the ops console (docs/CONSOLE.md), a static single-page app built into `dir` by `npm run console:build`,
 * at /console. It holds no data and no secret: every figure and every change goes through the /v1 API with the
 * operator's own token. Assets carry a content hash in their names, so they are cached for good; index.html never is.
 * Missing build: 404 CONSOLE_NOT_BUILT naming the command.
 *
 *     app.use(serveConsole(config.consoleDir));
 */
export function serveConsole(dir: string): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new AppError(405, 'METHOD_NOT_ALLOWED', 'the console is read with GET');
    if (ctx.path === '/console') return ctx.redirect('/console/');
    if (!existsSync(dir)) {
      throw new AppError(404, 'CONSOLE_NOT_BUILT', 'the ops console is not built here: run `npm run console:build` (npm start builds it)');
    }
    const file = ctx.path.slice('/console/'.length);
    const asset = file.startsWith('assets/');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) ctx.set(name, value);
    const served = await send(ctx, asset ? file : 'index.html', {
      root: dir,
      immutable: asset,
      maxage: asset ? 365 * 24 * 3_600_000 : 0,
      setHeaders: (res) => {
        if (!asset) res.setHeader('Cache-Control', 'no-cache');
      },
    }).catch((err: { status?: number }) => {
      // koa-send's 4xx (no such file, a path climbing out of the folder, a malformed name) are all "no such file" here.
      if (err.status !== undefined && err.status >= 400 && err.status < 500) return undefined;
      throw err;
    });
    if (!served) throw new AppError(404, 'NOT_FOUND', 'no such console file');
  };
}
