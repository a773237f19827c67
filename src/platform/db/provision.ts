import type { Config } from '../../config.js';
import { startFerretdb } from './ferretdb.js';
import {
  clearMemoryServerFailure,
  recentMemoryServerFailure,
  recordMemoryServerFailure,
  startMemoryServer,
  type MemoryServerStarter,
} from './memory-server.js';

export type EngineName = 'external' | 'mongodb-memory-server' | 'ferretdb-sqlite' | 'ferretdb-postgresql';

export type RunningEngine = {
  uri: string;
  engine: EngineName;
  description: string;
  pid?: number;
  /** Stops the engine this process started (a no-op for an external database). Safe to call twice. */
  stop(): Promise<void>;
};

export type Provisioned = RunningEngine & {
  /** What was tried, in order, and why each earlier choice was passed over. */
  attempts: string[];
};

export type ProvisionOptions = {
  db: Config['db'];
  toolsDir: string;
  log?: (msg: string) => void;
  /** Replaceable so the fallback order can be tested on a machine that does have a mongod. */
  memoryServer?: MemoryServerStarter;
};

/** Thrown when no engine could be found or started; the message lists every option. */
export class NoDatabaseError extends Error {}

/**
 * Finds a database for the service, the tests, the load scripts and the benchmarks:
 * MONGODB_URI when set; else the engine DB_ENGINE forces; else mongodb-memory-server when it can obtain a mongod
 * (a failure is remembered for 24 h so it is not retried on every run); else FerretDB (SQLite backend) built by Go.
 *
 *     const db = await provisionDatabase({ db: config.db, toolsDir: config.toolsDir }); ...; await db.stop();
 */
export async function provisionDatabase(opts: ProvisionOptions): Promise<Provisioned> {
  const { db, toolsDir } = opts;
  const log = opts.log ?? (() => {});
  const memoryServer = opts.memoryServer ?? startMemoryServer;
  const attempts: string[] = [];

  if (db.uri) {
    return { uri: db.uri, engine: 'external', description: `MongoDB at ${redact(db.uri)}`, stop: async () => {}, attempts: ['MONGODB_URI is set'] };
  }
  const ferret = (backend: 'sqlite' | 'postgresql') =>
    startFerretdb({ toolsDir, backend, postgresqlUrl: db.ferretdbPostgresqlUrl, dataDir: db.ferretdbDataDir, log });

  switch (db.engine) {
    case 'memory-server': {
      const started = await memoryServer().catch((err: unknown) => {
        throw new NoDatabaseError(`DB_ENGINE=memory-server, but mongodb-memory-server could not start: ${message(err)}`);
      });
      await clearMemoryServerFailure(toolsDir);
      return { ...started, attempts: ['DB_ENGINE=memory-server'] };
    }
    case 'ferretdb-sqlite':
      return { ...(await ferret('sqlite')), attempts: ['DB_ENGINE=ferretdb-sqlite'] };
    case 'ferretdb-postgresql':
      return { ...(await ferret('postgresql')), attempts: ['DB_ENGINE=ferretdb-postgresql'] };
    case 'auto':
      break;
  }

  const failure = await recentMemoryServerFailure(toolsDir);
  if (failure) {
    attempts.push(`mongodb-memory-server skipped: it failed recently: ${failure}`);
  } else {
    try {
      const started = await memoryServer();
      return { ...started, attempts: [...attempts, 'mongodb-memory-server obtained a mongod'] };
    } catch (err) {
      attempts.push(`mongodb-memory-server failed: ${message(err)}`);
      await recordMemoryServerFailure(toolsDir, message(err));
    }
  }
  // One line: building the launcher (first run) can take minutes, and the user should know why FerretDB is chosen.
  log(`${attempts.at(-1)}; falling back to FerretDB (SQLite backend)`);
  try {
    const started = await ferret('sqlite');
    return { ...started, attempts: [...attempts, 'FerretDB (SQLite backend) started'] };
  } catch (err) {
    attempts.push(`FerretDB failed: ${message(err)}`);
  }
  throw new NoDatabaseError(
    [
      'no database: set MONGODB_URI to a MongoDB server, or let the service start an embedded one:',
      '  - mongodb-memory-server needs a mongod it can download or find (MONGOMS_SYSTEM_BINARY),',
      '  - FerretDB needs Go to build scripts/ferretdb (DB_ENGINE=ferretdb-sqlite or ferretdb-postgresql).',
      'What was tried:',
      ...attempts.map((a) => `  - ${a}`),
    ].join('\n'),
  );
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';

/** Hides the password of a connection string before it is logged or reported. */
export const redact = (uri: string) => uri.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
