import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRunAlerting, verifyWebhookSignature } from '../src/alerting/index.ts';
import { systemClock } from '../src/clock/index.ts';
import { type RecordedRequest, sendJson, startFakeHttpServer } from './fakes/fake-http-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

const HOOK_SECRET = 'shared-secret-for-the-webhook-test';
const ROUTING_KEY = 'R0UTINGKEY0123456789abcdefABCDEF';

function writeAlerting(workspace: TempWorkspace, yaml: string): void {
  mkdirSync(join(workspace.root, '.loki', 'config'), { recursive: true });
  writeFileSync(join(workspace.root, '.loki', 'config', 'alerting.yaml'), yaml);
}

/** A port nothing listens on: bound once to learn a free one, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const runEnded = (outcome: string, exitCode: number) => ({
  type: 'run.ended',
  runId: 'run-abc',
  data: { status: outcome === 'completed' ? 'completed' : 'stopped', outcome, exitCode },
  createdAt: Date.UTC(2026, 0, 2),
});

describe('alert channels on loopback receivers', () => {
  it('sends Slack blocks, a PagerDuty v2 event with its dedup key and a signed webhook, each filtered by severity', async () => {
    await using slack = await startFakeHttpServer((_request, response) => {
      response.writeHead(200).end('ok');
    });
    await using pagerDuty = await startFakeHttpServer((_request, response) =>
      sendJson(response, 202, { status: 'success', message: 'Event processed', dedup_key: 'x' }),
    );
    await using hook = await startFakeHttpServer((_request, response) => {
      response.writeHead(204).end();
    });
    using workspace = new TempWorkspace();
    writeAlerting(
      workspace,
      [
        'channels:',
        '  - { name: ops, type: slack, webhookUrl: "${SLACK_URL}/services/T0/B0/x", minSeverity: info }',
        `  - { name: pager, type: pagerduty, routingKey: "\${PD_KEY}", url: "${pagerDuty.url}/v2/enqueue", minSeverity: error }`,
        `  - { name: hook, type: webhook, url: "${hook.url}/loki", secret: "\${HOOK_SECRET}", minSeverity: warning }`,
      ].join('\n'),
    );
    const logs: string[] = [];
    const alerting = startRunAlerting(
      {
        cwd: workspace.root,
        env: { SLACK_URL: slack.url, PD_KEY: ROUTING_KEY, HOOK_SECRET },
        clock: systemClock,
      },
      (text) => logs.push(text),
    );
    alerting.notice(runEnded('blocked', 5));
    alerting.notice({
      type: 'breaker.changed',
      runId: 'run-abc',
      data: { breaker: 'provider:anthropic', state: 'open', consecutiveFailures: 5 },
      createdAt: 1,
    });
    alerting.notice({ type: 'task.claimed', runId: 'run-abc', data: {}, createdAt: 1 });
    alerting.notice(runEnded('completed', 0));
    const stats = await alerting.close();
    expect(logs).toEqual([]);
    // slack: blocked, breaker, completed (info passes); pager: blocked, then the completed run's resolve;
    // webhook: blocked and breaker (completed is info, below its warning).
    expect(stats).toEqual({ delivered: 7, dropped: 0 });

    const slackBodies = slack.requests.map(
      (request) => request.body as { text: string; blocks: { type: string }[] },
    );
    expect(slack.requests.every((request) => request.pathname === '/services/T0/B0/x')).toBe(true);
    expect(slackBodies.map((body) => body.text)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Loki run run-abc is blocked'),
        expect.stringContaining('circuit breaker provider:anthropic opened'),
        expect.stringContaining('completed'),
      ]),
    );
    for (const body of slackBodies)
      expect(body.blocks.map((block) => block.type)).toEqual(['header', 'section', 'context']);

    const pagerEvents = pagerDuty.requests.map((request) => request.body as Record<string, unknown>);
    const trigger = pagerEvents.find((event) => event.event_action === 'trigger');
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      dedup_key: 'loki/run-abc/run',
      payload: {
        severity: 'error',
        source: expect.any(String),
        class: 'run.ended',
        summary: expect.stringContaining('blocked'),
      },
    });
    expect(pagerEvents.find((event) => event.event_action === 'resolve')).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'loki/run-abc/run',
    });
    expect(pagerEvents).toHaveLength(2);

    expect(hook.requests).toHaveLength(2);
    for (const request of hook.requests) {
      const verified = verifyWebhookSignature({
        secret: HOOK_SECRET,
        body: request.rawBody,
        timestamp: request.headers['x-loki-timestamp'],
        signature: request.headers['x-loki-signature'],
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      expect(verified).toBe(true);
      expect(
        verifyWebhookSignature({
          secret: 'another-secret-of-some-length',
          body: request.rawBody,
          timestamp: request.headers['x-loki-timestamp'],
          signature: request.headers['x-loki-signature'],
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      ).toBe(false);
    }
    expect((hook.requests[0]?.body as { severity: string }).severity).toBe('error');
  });

  it('retries a 5xx with backoff until the receiver takes it, and does not retry a 4xx', async () => {
    let answered = 0;
    await using flaky = await startFakeHttpServer((_request, response) => {
      answered += 1;
      response.writeHead(answered <= 2 ? 503 : 200).end();
    });
    await using refusing = await startFakeHttpServer((_request, response) => {
      response.writeHead(400).end('invalid_payload');
    });
    using workspace = new TempWorkspace();
    writeAlerting(
      workspace,
      [
        'channels:',
        `  - { name: flaky, type: slack, webhookUrl: "${flaky.url}/hook" }`,
        `  - { name: refusing, type: slack, webhookUrl: "${refusing.url}/hook" }`,
        'delivery: { maxAttempts: 4, flushSeconds: 60 }',
      ].join('\n'),
    );
    const logs: string[] = [];
    const alerting = startRunAlerting({ cwd: workspace.root, env: {}, clock: systemClock }, (text) =>
      logs.push(text),
    );
    alerting.notice(runEnded('stalled', 6));
    expect(await alerting.close()).toEqual({ delivered: 1, dropped: 1 });
    expect(flaky.requests).toHaveLength(3);
    expect(refusing.requests).toHaveLength(1);
    // The Slack webhook URL is a secret: the log names the channel, never the URL.
    expect(logs.join('\n')).toContain('to refusing (slack) dropped: HTTP 400 after 1 attempt(s)');
    expect(logs.join('\n')).not.toContain(refusing.url);
  });
});

describe('loki alert test', () => {
  it('sends a test alert to each channel and reports each, secrets never printed', async () => {
    await using slack = await startFakeHttpServer((_request, response) => {
      response.writeHead(200).end('ok');
    });
    await using pagerDuty = await startFakeHttpServer((_request: RecordedRequest, response) =>
      sendJson(response, 202, { status: 'success' }),
    );
    using workspace = new TempWorkspace();
    const port = await closedPort();
    writeAlerting(
      workspace,
      [
        'channels:',
        `  - { name: ops, type: slack, webhookUrl: "${slack.url}/hook", minSeverity: critical }`,
        `  - { name: pager, type: pagerduty, routingKey: "\${PD_ROUTING_KEY}", url: "${pagerDuty.url}/v2/enqueue" }`,
        `  - { name: down, type: webhook, url: "http://127.0.0.1:${port}/loki", secret: "${HOOK_SECRET}" }`,
        'delivery: { maxAttempts: 2 }',
      ].join('\n'),
    );
    const result = await loki(workspace, ['alert', 'test'], { env: { PD_ROUTING_KEY: ROUTING_KEY } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('✓ ops (slack): HTTP 200 after 1 attempt(s)');
    expect(result.stdout).toContain(
      '✓ pager (pagerduty): HTTP 202 after 1 attempt(s) (triggered and resolved)',
    );
    expect(result.stdout).toContain('✗ down (webhook): network error ECONNREFUSED after 2 attempt(s)');
    expect(result.stdout + result.stderr).not.toContain(ROUTING_KEY);
    expect(result.stdout + result.stderr).not.toContain(HOOK_SECRET);
    // The test alert passes the minSeverity filter; PagerDuty gets the trigger and its resolve.
    expect(slack.requests).toHaveLength(1);
    expect(
      pagerDuty.requests.map((request) => (request.body as { event_action: string }).event_action),
    ).toEqual(['trigger', 'resolve']);
  });

  it('refuses an alerting.yaml with an unknown key, suggesting the known one', async () => {
    using workspace = new TempWorkspace();
    writeAlerting(
      workspace,
      'channels:\n  - { name: ops, type: slack, webhookURL: "https://hooks.slack.com/x" }\n',
    );
    const result = await loki(workspace, ['alert', 'test']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown key "channels.0.webhookURL"');
    expect(result.stderr).toContain('Did you mean "channels.0.webhookUrl"?');
  });
});
