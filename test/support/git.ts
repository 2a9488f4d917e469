import { execFileSync } from 'node:child_process';
import { LOKI_GIT_IDENTITY } from '../../src/git/index.ts';

/** Runs git in `cwd` (Loki's identity, so commits work on a machine without one) and returns its trimmed output. */
export function gitOutput(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...LOKI_GIT_IDENTITY },
  }).trim();
}
