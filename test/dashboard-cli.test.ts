import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loki, TempWorkspace } from './support/cli-harness.ts';

/** A port held by someone else for the test's length. */
async function holdPort(): Promise<{ port: number; [Symbol.asyncDispose](): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the dashboard from the CLI', () => {
  it('loki run refuses a busy dashboard port before anything is written, naming --port and --no-dashboard', async () => {
    using workspace = new TempWorkspace();
    await using held = await holdPort();
    writeFileSync(join(workspace.root, 'prd.md'), '# A product\n\nSomething small.\n');
    const result = await loki(workspace, [
      'run',
      'prd.md',
      '--provider',
      'scripted',
      '--port',
      String(held.port),
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `loki: port ${held.port} on 127.0.0.1 is already in use (another loki dashboard?); choose another with --port <n> or LOKI_DASHBOARD_PORT, or run without the dashboard (--no-dashboard)\n`,
    );
    expect(existsSync(join(workspace.root, '.loki'))).toBe(false);
  });

  it('loki dashboard needs a workspace, and says how to get one; a bad --port is refused', async () => {
    using workspace = new TempWorkspace();
    const missing = await loki(workspace, ['dashboard']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^loki: no Loki workspace in .*; start one with loki run <prd>/);
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    const bad = await loki(workspace, ['dashboard', '--port', 'eighty']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe('loki: --port must be a port number from 0 to 65535, not "eighty"\n');
  });
});
