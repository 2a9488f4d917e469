import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { errorCode } from '../../errors/index.ts';
import { parseJsonOrNull } from '../../text/index.ts';

/*
 * Where `loki status` finds the dashboard of a live run. The record holds the token, so it lives
 * under the user's home (~/.loki/dashboards/, mode 0600), not in the workspace: agents work inside
 * the workspace and must not find a key to steer the run there.
 */

const recordSchema = z.strictObject({ url: z.string(), pid: z.number().int(), root: z.string() });
export type DashboardRecord = z.infer<typeof recordSchema>;

function recordFile(env: NodeJS.ProcessEnv, root: string): string {
  const home = env.HOME ?? homedir();
  const name = createHash('sha256').update(root).digest('hex').slice(0, 24);
  return join(home, '.loki', 'dashboards', `${name}.json`);
}

/** Records the dashboard this process serves for `root`; the returned function removes it. */
export function writeDashboardRecord(env: NodeJS.ProcessEnv, record: DashboardRecord): () => void {
  const file = recordFile(env, record.root);
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The URL of the dashboard a live process serves for `root`, or null (none, or its process is gone). */
export function readLiveDashboardUrl(env: NodeJS.ProcessEnv, root: string): string | null {
  let text: string;
  try {
    text = readFileSync(recordFile(env, root), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  const parsed = recordSchema.safeParse(parseJsonOrNull(text));
  // A record left by a process that died (kill -9) says nothing: its server is gone with it.
  if (!parsed.success || parsed.data.root !== root || !isProcessAlive(parsed.data.pid)) return null;
  return parsed.data.url;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return errorCode(error) === 'EPERM';
  }
}
