import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, repoRoot } from '../src/config.js';

const SECRET = 's'.repeat(32);

/** The ConfigError that loading `env` throws (fails the test if it loads). */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('when nothing is set in development, then the defaults apply and a secret is generated for the run', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 3000, host: '127.0.0.1', defaultTimezone: 'UTC', logLevel: 'info', bodyLimitBytes: 65_536 });
    expect(config.db).toMatchObject({ uri: undefined, name: 'loyalty', engine: 'auto', timeoutMs: 3000 });
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', generated: true });
    expect(Buffer.byteLength(config.jwt.key)).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).jwt.key).not.toBe(config.jwt.key);
  });

  it('when a secret is given, then it is used as is and not marked generated', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, PORT: '8080', JWT_ISSUER: 'auth', JWT_AUDIENCE: 'api' });
    expect(config.jwt).toEqual({ algorithm: 'HS256', key: SECRET, generated: false, issuer: 'auth', audience: 'api' });
    expect(config.port).toBe(8080);
  });

  it('when the configuration is loaded, then it is frozen all the way down', () => {
    const config = loadConfig({ JWT_SECRET: SECRET });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.db)).toBe(true);
    expect(Object.isFrozen(config.jwt)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.jwt as { key: string }).key = 'x';
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
  });

  it('when PORT is not a number or out of range, then ConfigError names PORT', () => {
    for (const PORT of ['abc', '-1', '65536', '80.5']) {
      const err = configError({ PORT, JWT_SECRET: SECRET });
      expect(err.message).toMatch(/^invalid configuration:/);
      expect(err.message).toContain('PORT');
      expect(err.problems.some((p) => p.startsWith('PORT:'))).toBe(true);
    }
  });

  it('when JWT_SECRET is shorter than 32 bytes, then ConfigError names JWT_SECRET', () => {
    const err = configError({ JWT_SECRET: 'x'.repeat(31) });
    expect(err.problems).toEqual(['JWT_SECRET: must be at least 32 bytes for HS256']);
    expect(err.message).toContain('JWT_SECRET');
  });

  it('when a 32-byte secret is made of multi-byte characters, then it is measured in bytes', () => {
    expect(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).jwt.key).toBe('é'.repeat(16));
    expect(configError({ JWT_SECRET: 'é'.repeat(15) }).message).toContain('JWT_SECRET');
  });

  it('when NODE_ENV=production has no JWT_SECRET, then ConfigError names JWT_SECRET instead of generating one', () => {
    for (const JWT_SECRET of [undefined, '', '   ']) {
      const err = configError({ NODE_ENV: 'production', ...(JWT_SECRET === undefined ? {} : { JWT_SECRET }) });
      expect(err.message).toContain('JWT_SECRET');
    }
  });

  it('when JWT_ALGORITHM=RS256 or ES256 has no PEM public key, then ConfigError names JWT_PUBLIC_KEY', () => {
    for (const JWT_ALGORITHM of ['RS256', 'ES256']) {
      expect(configError({ JWT_ALGORITHM }).message).toContain('JWT_PUBLIC_KEY');
      expect(configError({ JWT_ALGORITHM, JWT_PUBLIC_KEY: 'not a pem' }).message).toContain('JWT_PUBLIC_KEY');
    }
  });

  it('when RS256 is configured with a secret as well, then ConfigError names JWT_SECRET; when HS256 has a public key, it names JWT_PUBLIC_KEY', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(configError({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: publicKey, JWT_SECRET: SECRET }).message).toContain('JWT_SECRET');
    expect(configError({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: publicKey }).message).toContain('JWT_PUBLIC_KEY');
    const escaped = publicKey.replace(/\n/g, '\\n');
    expect(loadConfig({ JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: escaped }).jwt).toMatchObject({ algorithm: 'RS256', key: publicKey, generated: false });
  });

  it('when JWT_ALGORITHM is not one of the pinned ones, then ConfigError names it', () => {
    for (const JWT_ALGORITHM of ['none', 'HS512', 'hs256']) expect(configError({ JWT_ALGORITHM, JWT_SECRET: SECRET }).message).toContain('JWT_ALGORITHM');
  });

  it('when DEFAULT_TIMEZONE is not an IANA zone, then ConfigError names it', () => {
    const err = configError({ DEFAULT_TIMEZONE: 'Mars/Base', JWT_SECRET: SECRET });
    expect(err.problems).toEqual(['DEFAULT_TIMEZONE: not an IANA time zone']);
    expect(loadConfig({ DEFAULT_TIMEZONE: 'Asia/Shanghai', JWT_SECRET: SECRET }).defaultTimezone).toBe('Asia/Shanghai');
  });

  it('when other variables are malformed, then each is named', () => {
    const cases: Record<string, string> = {
      NODE_ENV: 'staging',
      MONGODB_DB_NAME: 'loyalty/../admin',
      DB_ENGINE: 'sqlite',
      DB_TIMEOUT_MS: '10',
      LOG_LEVEL: 'verbose',
      BODY_LIMIT_BYTES: '1e9',
      SHUTDOWN_TIMEOUT_MS: 'soon',
    };
    for (const [name, value] of Object.entries(cases)) {
      expect(configError({ [name]: value, JWT_SECRET: SECRET }).message, name).toContain(name);
    }
  });

  it('when several variables are bad, then the message names every one of them', () => {
    const err = configError({ PORT: 'abc', DEFAULT_TIMEZONE: 'Mars/Base', LOG_LEVEL: 'loud', JWT_SECRET: SECRET });
    for (const name of ['PORT', 'DEFAULT_TIMEZONE', 'LOG_LEVEL']) expect(err.message).toContain(name);
  });

  it('when a variable is malformed and the JWT key is wrong too, then the one message names both', () => {
    const short = configError({ PORT: 'abc', JWT_SECRET: 'short' });
    expect(short.problems.map((p) => p.split(':')[0]).sort()).toEqual(['JWT_SECRET', 'PORT']);
    const missing = configError({ DEFAULT_TIMEZONE: 'Mars/Base', JWT_ALGORITHM: 'ES256' });
    expect(missing.problems.map((p) => p.split(':')[0]).sort()).toEqual(['DEFAULT_TIMEZONE', 'JWT_PUBLIC_KEY']);
  });
});

describe('the process', () => {
  it('when the service starts with PORT=abc, then it exits with code 1 and stderr names PORT', { timeout: 60_000 }, async () => {
    const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), ['src/server.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: 'abc', MONGODB_URI: '', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^invalid configuration:\n {2}PORT: /);
    expect(stdout).not.toContain('listening');
    expect(stdout).not.toContain('database engine');
  });
});
