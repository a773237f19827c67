import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { TEST_SECRET } from './helpers/app.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

type Run = { code: number; stdout: string; stderr: string };

/** Runs `npm run token -- <args>` as a newcomer would, minus npm's own banner. */
function token(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tsx, ['scripts/token.ts', ...args], { cwd: repoRoot, env: { ...process.env, NODE_ENV: 'development', JWT_SECRET: TEST_SECRET, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('npm run token', () => {
  it('when --help or -h is given, then the usage is printed on stdout and it exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await token([flag]);
      expect(run.code, flag).toBe(0);
      expect(run.stdout).toMatch(/^usage: npm run token -- --role ops\|service\|member/);
      expect(run.stdout).toContain('--expires-in');
      expect(run.stderr).toBe('');
    }
  });

  it('when a flag is unknown, a value is missing or a value is bad, then one error line and the usage go to stderr and it exits 2', async () => {
    for (const [args, error] of [
      [['--role', 'ops', '--bogus'], /^unknown option '--bogus'/i],
      [['--role'], /^option '--role <value>' argument missing/i],
      [['--role', 'ops', 'extra'], /^unexpected argument 'extra'/i],
      [['--role', 'admin'], /^--role must be ops, service or member/],
      [['--role', 'member'], /^a member token needs --sub <memberId>/],
      [['--role', 'ops', '--expires-in', 'soon'], /^--expires-in must be a number and a unit/],
    ] as const) {
      const run = await token([...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      const [first, ...rest] = run.stderr.split('\n');
      expect(first, args.join(' ')).toMatch(error);
      expect(rest.join('\n')).toContain('usage: npm run token');
      noStack(run.stderr);
    }
  });

  it('when the arguments are good, then a token signed with JWT_SECRET is printed', async () => {
    const run = await token(['--role', 'member', '--sub', 'm-1', '--expires-in', '30m']);
    expect(run.code).toBe(0);
    const claims = jwt.verify(run.stdout.trim(), TEST_SECRET) as jwt.JwtPayload;
    expect(claims).toMatchObject({ role: 'member', sub: 'm-1' });
    expect(claims.exp! - claims.iat!).toBe(1800);
  });
});
