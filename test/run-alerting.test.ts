import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeHttpServer } from './fakes/fake-http-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, readEvents, startLoki } from './support/run-harness.ts';

const HOOK_SECRET = 'the-webhook-signing-secret-of-this-test';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function configureRun(workspace: TempWorkspace, url: string): string[] {
  const args = prepareRun(workspace, { tasks: [{ id: 'alpha', files: { 'files/alpha.txt': 'alpha\n' } }] });
  mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
  writeFileSync(
    join(workspace.root, '.loki', 'config', 'alerting.yaml'),
    [
      'channels:',
      `  - { name: hook, type: webhook, url: "${url}", secret: "\${HOOK_SECRET}", minSeverity: info }`,
      'delivery: { maxAttempts: 3, flushSeconds: 1 }',
    ].join('\n'),
  );
  return ['run', 'prd.md', ...args, '--json', '--no-dashboard'];
}

describe('loki run with alerting', () => {
  it('alerts the run’s completion to a receiver that is up', async () => {
    await using hook = await startFakeHttpServer((_request, response) => {
      response.writeHead(200).end();
    });
    using workspace = new TempWorkspace();
    const result = await loki(workspace, configureRun(workspace, `${hook.url}/loki`), {
      env: { HOOK_SECRET },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const ended = readEvents(result.stdout).find((event) => event.type === 'run.ended');
    expect(ended?.data).toMatchObject({ outcome: 'completed', exitCode: 0 });
    expect(hook.requests.map((request) => request.body)).toEqual([
      expect.objectContaining({
        action: 'trigger',
        severity: 'info',
        event: 'run.ended',
        runId: ended?.runId,
      }),
    ]);
    expect(result.stderr).not.toContain('alerting:');
  });

  it('ends the same way when the receiver is down: the alert is dropped and said, the run is not failed', async () => {
    using workspace = new TempWorkspace();
    const port = await closedPort();
    // The real executable: its process must wait out the alert's retries, not exit under them.
    const result = await startLoki(workspace, configureRun(workspace, `http://127.0.0.1:${port}/loki`), {
      HOOK_SECRET,
    }).done;
    expect(result.exitCode, result.stderr).toBe(0);
    const events = readEvents(result.stdout);
    expect(events.find((event) => event.type === 'run.ended')?.data).toMatchObject({
      outcome: 'completed',
      exitCode: 0,
    });
    expect(result.stderr).toContain('alerting: alert "Loki run');
    expect(result.stderr).toMatch(/to hook \(webhook\) dropped: network error ECONNREFUSED/);
    expect(result.stderr).not.toContain(HOOK_SECRET);
  });
});
