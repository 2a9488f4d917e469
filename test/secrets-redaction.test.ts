import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSession } from '../src/bench/generated-session.ts';
import { systemClock } from '../src/clock/index.ts';
import { openWorkspace } from '../src/workspace/index.ts';
import { type FakeAnthropicServer, startFakeAnthropicServer } from './fakes/fake-anthropic-server.ts';
import { type FakeHttpFault, fakeReply } from './fakes/fake-reply.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { startLoki, TEST_PRD } from './support/run-harness.ts';

/**
 * The configured secrets' actual values never reach a sink: not the store (events, task rows), not
 * the terminal, not a file under .loki/ (projections, dead letter, CONTINUITY.md, reports). The
 * key here has no well-known token shape, so only its value can give it away.
 */
const API_KEY = 'loki-test-credential-5f2c8e91d7a4';
const MARKER = '[REDACTED]';

/** An Anthropic error answer whose message echoes the key, as some gateways and proxies do. */
function errorEchoingKey(status: number, errorType: string): FakeHttpFault {
  return {
    type: 'fault',
    status,
    headers: { 'x-should-retry': 'false' },
    body: { type: 'error', error: { type: errorType, message: `request with key ${API_KEY} refused` } },
  };
}

/** Every file under `directory` (the database and its WAL included) whose bytes contain `text`. */
function filesContaining(directory: string, text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(text)) found.push(path);
  }
  return found;
}

async function storedEventsText(root: string): Promise<string> {
  await using workspace = await openWorkspace(root, { clock: systemClock });
  return JSON.stringify(await workspace.store.listEvents());
}

let workspace: TempWorkspace;
let server: FakeAnthropicServer;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  workspace = new TempWorkspace('loki-secrets-');
  server = await startFakeAnthropicServer({ expectedApiKey: API_KEY });
  env = { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl, LOKI_BASE_WAIT: '1' };
});
afterEach(async () => {
  await server.close();
  workspace[Symbol.dispose]();
});

describe('secrets in provider errors', () => {
  it('loki run: an error body echoing the key reaches no event, terminal line, projection, dead letter or report', async () => {
    const session = buildSession({ tasks: [{ id: 'one', files: { 'one.txt': 'one\n' } }] });
    for (const steps of [session.discovery, session.architecture]) {
      const call = (steps as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[])[0]
        ?.toolCalls[0];
      server.enqueue(fakeReply.toolCall(call?.toolName ?? '', call?.input ?? {}));
    }
    server.enqueue(errorEchoingKey(500, 'api_error'));
    writeFileSync(join(workspace.root, 'prd.md'), TEST_PRD);

    const run = startLoki(
      workspace,
      [
        '-c',
        'maxRetries=0',
        'run',
        'prd.md',
        '--provider',
        'anthropic',
        '--parallel',
        '1',
        '--max-task-attempts',
        '1',
      ],
      env,
    );
    const result = await run.done;
    expect(result.exitCode, result.stdout + result.stderr).toBe(5);
    expect(server.messageRequests()).toHaveLength(3);

    expect(result.stdout + result.stderr).not.toContain(API_KEY);
    expect(result.stdout + result.stderr).toContain(MARKER);
    const events = await storedEventsText(workspace.root);
    expect(events).not.toContain(API_KEY);
    expect(events).toContain(MARKER);
    const loki = join(workspace.root, '.loki');
    expect(filesContaining(loki, API_KEY)).toEqual([]);
    expect(readFileSync(join(loki, 'queue', 'dead-letter.json'), 'utf8')).toContain(MARKER);
    const reports = join(loki, 'artifacts', 'reports');
    const report = readdirSync(reports).find((name) => name.endsWith('.md')) ?? 'missing';
    expect(readFileSync(join(reports, report), 'utf8')).toContain(MARKER);
  }, 90_000);

  it('loki task run: a refused key echoed by the provider is redacted on stderr', async () => {
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    server.enqueue(errorEchoingKey(401, 'authentication_error'));
    const result = await startLoki(
      workspace,
      ['task', 'run', 'Create hello.txt', '--provider', 'anthropic', '--verify', 'test -f hello.txt'],
      env,
    ).done;
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/^loki: .*ANTHROPIC_API_KEY/);
    expect(result.stderr).toContain(MARKER);
    expect(result.stdout + result.stderr).not.toContain(API_KEY);
    expect(await storedEventsText(workspace.root)).not.toContain(API_KEY);
    expect(filesContaining(join(workspace.root, '.loki'), API_KEY)).toEqual([]);
  }, 60_000);
});

describe('secrets in what the agent says', () => {
  it('redacts the key from agent text, the summary, the events and CONTINUITY.md', async () => {
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    server.enqueue(
      fakeReply.toolCall(
        'write_file',
        { path: 'hello.txt', content: 'hello\n' },
        { text: `I found the key ${API_KEY} in the environment.` },
      ),
      fakeReply.toolCall('task_complete', {
        summary: `wrote hello.txt; authenticated with ${API_KEY}`,
        files_changed: ['hello.txt'],
        tests_run: [],
      }),
    );
    const result = await loki(
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
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(API_KEY);

    const events = await storedEventsText(workspace.root);
    expect(events).not.toContain(API_KEY);
    expect(events).toContain(`I found the key ${MARKER} in the environment.`);
    const continuity = readFileSync(join(workspace.root, '.loki', 'CONTINUITY.md'), 'utf8');
    expect(continuity).not.toContain(API_KEY);
    expect(continuity).toContain(`authenticated with ${MARKER}`);
    expect(filesContaining(join(workspace.root, '.loki'), API_KEY)).toEqual([]);
  }, 60_000);
});

describe('secrets in what the agent writes', () => {
  it('loki task run: a key written into a file goes back to the agent and reaches no commit, event or terminal line', async () => {
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    const complete = fakeReply.toolCall('task_complete', {
      summary: 'wrote config.js',
      files_changed: ['config.js'],
      tests_run: [],
    });
    server.enqueue(
      fakeReply.toolCall('write_file', { path: 'config.js', content: `export const key = '${API_KEY}';\n` }),
      complete,
      fakeReply.toolCall('write_file', {
        path: 'config.js',
        content: 'export const key = process.env.ANTHROPIC_API_KEY;\n',
      }),
      complete,
    );
    const result = await loki(
      workspace,
      ['task', 'run', 'Create config.js', '--provider', 'anthropic', '--verify', 'test -f config.js'],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'secrets in the work, sent back to the agent: config.js (the value of ANTHROPIC_API_KEY)',
    );
    // The agent was told which file and which secret, never the value.
    const feedback = JSON.stringify(server.messageRequests()[2]);
    expect(feedback).toContain('SECRETS IN YOUR WORK');
    expect(feedback).toContain('config.js: the value of ANTHROPIC_API_KEY');

    const history = execFileSync('git', ['log', '-p', '--all'], { cwd: workspace.root, encoding: 'utf8' });
    expect(history).toContain('process.env.ANTHROPIC_API_KEY');
    expect(history).not.toContain(API_KEY);
    expect(result.stdout + result.stderr).not.toContain(API_KEY);
    expect(await storedEventsText(workspace.root)).not.toContain(API_KEY);
    expect(filesContaining(join(workspace.root, '.loki'), API_KEY)).toEqual([]);
  }, 60_000);
});
