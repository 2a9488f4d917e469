import { describe, expect, it } from 'vitest';
import { FakeCodexHome } from './fakes/codex-home.ts';
import type { FakeTurn } from './fakes/fake-reply.ts';
import { startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

const API_KEY = 'sk-openai-codex-test';
/** gpt-5.4 ($2.50 / $15 per million tokens): 200k input and 6,667 output tokens cost about $0.60. */
const MODEL = 'gpt-5.4';
const USAGE = { inputTokens: 200_000, outputTokens: 6_667 };

describe('loki task run --provider codex --budget (real codex binary, fake Responses API)', () => {
  it('charges each Codex turn and stops before a turn that could cross the cap: exit 4, spend reported', async () => {
    using workspace = new TempWorkspace('loki-task-codex-budget-');
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    const round: FakeTurn[] = [
      {
        type: 'turn',
        toolCalls: [{ name: 'exec_command', input: { cmd: 'echo again >> rounds.txt' } }],
        usage: USAGE,
      },
      { type: 'turn', text: 'Done.', usage: USAGE },
    ];
    await using api = await startFakeOpenAIServer({ expectedApiKey: API_KEY, defaultReply: round[1] });
    using codexHome = new FakeCodexHome(api.baseUrl);
    api.enqueue(...round, ...round, ...round);
    const result = await loki(
      workspace,
      [
        'task',
        'run',
        'Append a line',
        '--provider',
        'codex',
        '--model',
        MODEL,
        '--budget',
        '1.5',
        '--verify',
        'false',
      ],
      { env: { CODEX_HOME: codexHome.path, OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: api.baseUrl } },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(4);
    const modelCalls = api
      .modelRequests()
      .filter((request) => (request.body as { tools?: unknown }).tools !== undefined);
    expect(modelCalls.length).toBeLessThanOrEqual(3);
    const spent = /spent \$(\d+\.\d+) of \$1\.50; the CLI's last turn may overshoot by one turn/.exec(
      result.stderr,
    );
    expect(spent, result.stderr).not.toBeNull();
    expect(Number(spent?.[1])).toBeGreaterThanOrEqual(1.2);
  });
});
