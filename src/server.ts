import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import jwt from 'jsonwebtoken';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Clock } from './platform/clock.js';
import { connectDatabase } from './platform/db/connection.js';
import { provisionDatabase, redact } from './platform/db/provision.js';
import type { Faults } from './platform/faults.js';
import { createLogger, type Logger } from './platform/logger.js';

/**
 * Outside production, with a shared-secret key, a link that opens the ops console already signed in: a fresh ops token
 * good for one hour, in the URL's fragment (never sent to a server; the console moves it to session storage at once).
 * In production, or with a public key the service cannot sign with, the console asks for a token.
 */
export function devConsoleLink(config: Config, url: string): string | undefined {
  if (config.env === 'production' || config.jwt.algorithm !== 'HS256') return undefined;
  const token = jwt.sign({ role: 'ops', sub: 'console-dev' }, config.jwt.key, {
    algorithm: 'HS256',
    expiresIn: '1h',
    ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
    ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
  });
  return `${url}/console/#token=${token}`;
}

export type RunningServer = {
  url: string;
  engine: string;
  /** Stops accepting, lets in-flight requests and a sweep finish (SHUTDOWN_TIMEOUT_MS in all), closes the database and the engine. */
  close(): Promise<void>;
};

/**
 * Finds or starts the database, builds the app and listens. `faults` arms crash points (multi-process crash tests only).
 *
 *     const server = await startServer(loadConfig()); ...; await server.close();
 */
export async function startServer(config: Config, opts: { logger?: Logger; clock?: Clock; faults?: Faults } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const engine = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir, log: (msg) => logger.info(msg) });
  logger.info({ engine: engine.engine, description: engine.description, attempts: engine.attempts }, `database engine: ${engine.description}`);

  let db;
  try {
    db = await connectDatabase(engine.uri, config.db.name, config.db.timeoutMs);
  } catch (err) {
    await engine.stop();
    throw new Error(`cannot connect to ${redact(engine.uri)}: ${(err as Error).message}`);
  }
  const { app, ready, startJobs, flush, stop } = createApp({
    config,
    db,
    clock: opts.clock ?? systemClock,
    logger,
    engine: { name: engine.engine, description: engine.description },
    faults: opts.faults,
  });
  await ready;
  const stopJobs = startJobs();

  const handle = app.callback();
  const inFlight = new Set<http.ServerResponse>();
  /** Handlers still running: one whose client hung up (or was cut off at the deadline) goes on writing until it ends. */
  const running = new Set<Promise<void>>();
  let draining = false;
  const server = http.createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (draining) res.setHeader('Connection', 'close');
    const run = handle(req, res).finally(() => running.delete(run));
    running.add(run);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url }, `listening on ${url}`);
  if (config.jwt.generated) {
    logger.warn(
      `JWT_SECRET is not set: generated one for this run. Mint tokens with: JWT_SECRET=${config.jwt.key} npm run token -- --role ops`,
    );
  }
  const consoleLink = devConsoleLink(config, url);
  logger.info({ console: consoleLink ? `${url}/console/` : undefined }, consoleLink ? `ops console (one-click, signed in for 1 h): ${consoleLink}` : `ops console: ${url}/console/ (sign in with an ops token)`);
  if (config.referrals.hashKeyGenerated) {
    logger.warn('REFERRAL_HASH_KEY is not set: generated one for this run, so device and IP hashes compare only within this process');
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // One deadline for all the waiting: draining connections, then handlers still running, then a sweep under way.
      const deadline = performance.now() + config.shutdownTimeoutMs;
      logger.info('shutting down: draining in-flight requests');
      // Answers still to come ask their clients to close the connection, so a kept-alive connection ends with its
      // last request instead of holding the shutdown up until the keep-alive timeout (or carrying new requests).
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), deadline - performance.now());
      await drained;
      clearTimeout(cut);
      // Connections are gone, but a handler cut off with its connection may still be committing; the database must
      // outlive it, for what is left of the deadline. One still running after that fails against the closed client
      // with a 503 nobody reads, as if the process had stopped under it.
      await until(deadline, Promise.allSettled([...running]));
      if (running.size > 0) logger.warn({ running: running.size }, 'shutdown deadline passed; requests still running are cut off');
      await until(deadline, stopJobs().catch((err: unknown) => logger.warn({ err }, 'a background job failed while stopping')));
      await flush().catch((err: unknown) => logger.warn({ err }, 'could not write the account caches; they rebuild from entries'));
      await stop(); // the heartbeat says this process stopped: others take over what it leaves at once
      await db.close();
      await engine.stop();
      logger.info('shutdown complete');
    })());
  return { url, engine: engine.engine, close };
}

/** Waits for `work` until `deadline` (a performance.now() value, immune to wall-clock jumps), whichever comes first. */
async function until(deadline: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - performance.now()))))]);
  clearTimeout(timer);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let server: RunningServer;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    logger.fatal({ err }, (err as Error).message);
    process.exit(1);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'signal received');
      server.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
