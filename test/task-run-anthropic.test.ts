import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import {
  anthropicFaults,
  type FakeAnthropicServer,
  startFakeAnthropicServer,
} from './fakes/fake-anthropic-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

const API_KEY = 'sk-ant-test-0123456789abcdef';

/**
 * `loki task run --provider anthropic` end to end: the real AI SDK Anthropic provider talks SSE to
 * a local fake of the Messages API that injects faults; Loki's retry policy and breakers decide.
 */
describe('loki task run against the (fake) Anthropic API', () => {
  let workspace: TempWorkspace;
  let server: FakeAnthropicServer;
  beforeEach(async () => {
    workspace = new TempWorkspace('loki-task-anthropic-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
  });
  afterEach(async () => {
    await server.close();
    workspace[Symbol.dispose]();
  });

  function run(apiKey: string, extra: NodeJS.ProcessEnv = {}) {
    return loki(
      workspace,
      [
        'task',
        'run',
        'Create hello.txt',
        '--provider',
        'anthropic',
        '--verify',
        'grep -q hello hello.txt',
        '--json',
      ],
      {
        env: {
          ANTHROPIC_API_KEY: apiKey,
          ANTHROPIC_BASE_URL: server.baseUrl,
          // Backoff from 1 s for transient failures; retry-after is honoured as sent.
          LOKI_BASE_WAIT: '1',
          LOKI_MAX_WAIT: '5',
          ...extra,
        },
      },
    );
  }

  it('honours retry-after on 429, backs off on 529 and 500, and completes the task', async () => {
    server.enqueue(
      anthropicFaults.rateLimited({ retryAfterSeconds: 1 }),
      anthropicFaults.overloaded(),
      anthropicFaults.serverError(500),
      fakeReply.toolCall('write_file', { path: 'hello.txt', content: 'hello\n' }),
      fakeReply.toolCall('task_complete', {
        summary: 'wrote hello.txt',
        files_changed: ['hello.txt'],
        tests_run: [],
      }),
    );
    const started = Date.now();
    const result = await run(API_KEY);
    const elapsed = Date.now() - started;
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const events = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"type"'))
      .map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
    const retries = events.filter((event) => event.type === 'agent.retry').map((event) => event.data);
    expect(retries.map((data) => [data.category, data.delayMilliseconds])).toEqual([
      ['rate_limited', 1000],
      ['transient', expect.any(Number)],
      ['transient', expect.any(Number)],
    ]);
    // base 1 s, doubling, plus up to 10 % jitter
    expect(Number(retries[1]?.delayMilliseconds)).toBeGreaterThanOrEqual(2000);
    expect(Number(retries[2]?.delayMilliseconds)).toBeGreaterThanOrEqual(4000);
    expect(elapsed).toBeGreaterThanOrEqual(7000);
    expect(events.filter((event) => event.type === 'agent.rate_limited')).toHaveLength(1);
    expect(server.messageRequests()).toHaveLength(5);
    // The real provider sent Loki's tools to the API.
    const firstBody = server.messageRequests()[0]?.body as { tools?: Array<{ name: string }> };
    expect(firstBody.tools?.map((tool) => tool.name)).toContain('write_file');
    const branch = JSON.parse(result.stdout.slice(result.stdout.lastIndexOf('\n{\n') + 1)).branch as string;
    expect(
      execFileSync('git', ['show', `${branch}:hello.txt`], { cwd: workspace.root, encoding: 'utf8' }),
    ).toBe('hello\n');
  }, 30_000);

  it('stops at once on 401 with a message saying which key to fix', async () => {
    const result = await run('sk-ant-wrong-key-0000000000', { LOKI_MODEL_DEFAULT: 'claude-test-model' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/ANTHROPIC_API_KEY/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    // At once: one request, no retry (a retry would be a second request after a backoff).
    expect(server.messageRequests()).toHaveLength(1);
    // The configured default-tier model is the one asked for.
    expect((server.messageRequests()[0]?.body as { model?: string }).model).toBe('claude-test-model');
    // The key never reaches the output or the event log.
    expect(result.stdout + result.stderr).not.toContain('sk-ant-wrong-key');
  });

  it('opens the provider breaker at its threshold and keeps it open across runs', async () => {
    writeFileSync(
      join(workspace.root, '.loki/config/circuit-breakers.yaml'),
      'defaults:\n  failureThreshold: 5\n  cooldownSeconds: 300\n  halfOpenRequests: 1\noverrides:\n  anthropic:\n    failureThreshold: 3\n',
    );
    for (let fault = 0; fault < 3; fault += 1) server.enqueue(anthropicFaults.overloaded());
    const result = await run(API_KEY, { LOKI_MAX_RETRIES: '5' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/circuit breaker provider:anthropic is open after 3 consecutive failures/);
    // The breaker (threshold lowered to 3 for anthropic below) is persisted: status shows it.
    const status = JSON.parse((await loki(workspace, ['status', '--json'])).stdout) as {
      breakers: Array<{ name: string; state: string }>;
    };
    expect(status.breakers).toEqual([expect.objectContaining({ name: 'provider:anthropic', state: 'open' })]);
    await using opened = await openWorkspace(workspace.root, { clock: systemClock });
    // The agent type's breaker counted the same failures but has the default threshold of 5.
    expect(await opened.store.listBreakers()).toEqual([
      expect.objectContaining({ name: 'agent-type:eng-backend', state: 'closed', consecutiveFailures: 3 }),
      expect.objectContaining({ name: 'provider:anthropic', state: 'open', consecutiveFailures: 3 }),
    ]);
    // A second run is refused at once while the breaker is open: no request reaches the API.
    const requestsBefore = server.messageRequests().length;
    const refused = await run(API_KEY);
    expect(refused.stderr).toMatch(/circuit breaker provider:anthropic is open/);
    expect(server.messageRequests()).toHaveLength(requestsBefore);
  }, 30_000);

  it('refuses a model call whose worst case would cross --budget: exit 4, nothing sent', async () => {
    const result = await run(API_KEY, { LOKI_BUDGET_USD: '0.01' });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/budget/i);
    expect(server.messageRequests()).toHaveLength(0);
    const status = JSON.parse((await loki(workspace, ['status', '--json'])).stdout) as {
      queue: Record<string, number>;
    };
    expect(status.queue.deadLetter).toBe(1);
  });

  it('spends within a budget that covers the calls', async () => {
    server.enqueue(
      fakeReply.toolCall('write_file', { path: 'hello.txt', content: 'hello\n' }),
      fakeReply.toolCall('task_complete', { summary: 'done', files_changed: ['hello.txt'], tests_run: [] }),
    );
    const result = await run(API_KEY, { LOKI_BUDGET_USD: '5' });
    expect(result.exitCode).toBe(0);
    expect(server.messageRequests()).toHaveLength(2);
    // The provider was told the same output bound the budget reserved for.
    expect((server.messageRequests()[0]?.body as { max_tokens?: number }).max_tokens).toBe(8192);
  });
});
