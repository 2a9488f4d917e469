/**
 * Rate limits are scheduled, not slept through (DESIGN.md §3, "Providers and runtimes"): a call told
 * to wait longer than `rateLimitRequeueSeconds` gives its worker back and its task returns to the
 * queue with a not-before time, no attempt counted; the per-provider limits of
 * `.loki/config/loki.yaml` (`providerLimits`) hold across every agent of the run. `loki run` talks to
 * the local fake Anthropic API (real SSE, real 429 with retry-after) and the fake counts what it sees.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionTask } from '../src/bench/generated-session.ts';
import type { LokiEvent } from '../src/events/index.ts';
import {
  anthropicFaults,
  type FakeAnthropicServer,
  startFakeAnthropicServer,
} from './fakes/fake-anthropic-server.ts';
import { sessionRoute } from './support/anthropic-session.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { mergedTaskIds, readEvents, TEST_PRD } from './support/run-harness.ts';

const API_KEY = 'sk-ant-rate-limit-test-0123456789';

function prepare(workspace: TempWorkspace, configYaml: string): void {
  writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);
  mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
  // The session scripts the agents' calls only; blind review (its own tests) would add reviewers' calls.
  writeFileSync(join(workspace.root, '.loki', 'config', 'loki.yaml'), `review.enabled: off\n${configYaml}`);
}

function runAgainst(server: FakeAnthropicServer, workspace: TempWorkspace, parallel: number) {
  return loki(
    workspace,
    ['run', 'prd.md', '--provider', 'anthropic', '--parallel', String(parallel), '--json'],
    { env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl } },
  );
}

const task = (id: string): SessionTask => ({ id, files: { [`files/${id}.txt`]: `content of ${id}\n` } });

describe('rate limits', () => {
  it('gives the worker back on a long retry-after: the task waits in the queue, another task goes on meanwhile', async () => {
    using workspace = new TempWorkspace('loki-rate-limit-');
    const tasks = [task('task-limited'), task('task-free')];
    let limitedAt: number | null = null;
    await using server = await startFakeAnthropicServer({
      expectedApiKey: API_KEY,
      route: sessionRoute(tasks, {
        fault: (request, current) => {
          if (current?.id !== 'task-limited' || limitedAt !== null) return undefined;
          limitedAt = request.receivedAt;
          return anthropicFaults.rateLimited({ retryAfterSeconds: 3 });
        },
      }),
    });
    // One worker: if the rate-limited call held it, the other task could not start before the wait ends.
    prepare(workspace, 'rateLimitRequeueSeconds: 1\nbaseWait: 1\nmaxWait: 60\n');
    const result = await runAgainst(server, workspace, 1);
    expect(result.exitCode, result.stdout.slice(-3000) + result.stderr).toBe(0);

    const events = readEvents(result.stdout);
    const released = events.filter(
      (event): event is Extract<LokiEvent, { type: 'task.released' }> =>
        event.type === 'task.released' && event.taskId === 'task-limited',
    );
    expect(released).toHaveLength(1);
    expect(released[0]?.data.reason).toMatch(/rate limit/i);
    // Not before the provider's retry-after, counted from the moment the 429 was sent.
    expect(released[0]?.data.availableAt).toBeGreaterThanOrEqual((limitedAt ?? Infinity) + 3000);

    // The single worker took the other task while the rate-limited one waited in the queue.
    const limitedClaims = events.filter(
      (event) => event.type === 'task.claimed' && event.taskId === 'task-limited',
    );
    expect(limitedClaims).toHaveLength(2);
    const freeClaimed = events.findIndex(
      (event) => event.type === 'task.claimed' && event.taskId === 'task-free',
    );
    expect(freeClaimed).toBeGreaterThan(events.indexOf(released[0] as LokiEvent));
    expect(freeClaimed).toBeLessThan(events.indexOf(limitedClaims[1] as LokiEvent));
    // No failure was counted against the rate-limited task.
    expect(events.filter((event) => event.type === 'task.failed')).toEqual([]);
    const queue = JSON.parse((await loki(workspace, ['queue', 'list', '--json'])).stdout) as {
      tasks: { id: string; status: string; retries: number }[];
    };
    expect(queue.tasks.find((entry) => entry.id === 'task-limited')).toMatchObject({
      status: 'completed',
      retries: 0,
    });
    expect([...mergedTaskIds(workspace.root)].sort()).toEqual(['task-free', 'task-limited']);
  }, 120_000);

  it('honours the provider’s concurrency limit across all agents', async () => {
    using workspace = new TempWorkspace('loki-rate-limit-');
    const tasks = ['one', 'two', 'three', 'four'].map(task);
    await using server = await startFakeAnthropicServer({
      expectedApiKey: API_KEY,
      route: sessionRoute(tasks, {}),
    });
    prepare(workspace, 'providerLimits:\n  anthropic:\n    maxConcurrentRequests: 1\n');
    const result = await runAgainst(server, workspace, 4);
    expect(result.exitCode, result.stdout.slice(-3000) + result.stderr).toBe(0);
    expect(server.messageRequests().length).toBeGreaterThanOrEqual(2 + 2 * tasks.length);
    expect(server.inFlight.highest).toBe(1);
  }, 120_000);

  it('spaces requests by the provider’s requests-per-minute limit', async () => {
    using workspace = new TempWorkspace('loki-rate-limit-');
    const tasks = ['one', 'two', 'three'].map(task);
    await using server = await startFakeAnthropicServer({
      expectedApiKey: API_KEY,
      route: sessionRoute(tasks, {}),
    });
    // 120 a minute: one request every 500 ms at most, however many agents ask.
    prepare(workspace, 'providerLimits:\n  anthropic:\n    requestsPerMinute: 120\n');
    const result = await runAgainst(server, workspace, 3);
    expect(result.exitCode, result.stdout.slice(-3000) + result.stderr).toBe(0);
    const arrivals = server.messageRequests().map((request) => request.receivedAt);
    expect(arrivals.length).toBeGreaterThanOrEqual(2 + 2 * tasks.length);
    // Starts are 500 ms apart; arrivals may drift by the time a request takes to reach the server.
    const gaps = arrivals.slice(1).map((arrival, index) => arrival - (arrivals[index] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(300);
  }, 120_000);

  it('refuses limits for a provider it does not know, naming it', async () => {
    using workspace = new TempWorkspace('loki-rate-limit-');
    prepare(workspace, 'providerLimits:\n  antropic:\n    requestsPerMinute: 50\n');
    const result = await loki(workspace, [
      'run',
      'prd.md',
      '--provider',
      'scripted',
      '--script',
      'none.json',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(
      /providerLimits names an unknown provider "antropic". Known providers: anthropic,/,
    );
  });
});
