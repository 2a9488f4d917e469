import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLAUDE_CODE_EXECUTABLE,
  type ClaudeCodeFakeApi,
  createClaudeCodeHome,
  startClaudeCodeFakeApi,
} from './fakes/claude-code-fake-api.ts';
import { fakeReply, type FakeUsage } from './fakes/fake-reply.ts';
import { loki, TempWorkspace } from './support/cli-harness.ts';

/** On claude-sonnet-4-5 ($3 / $15 per million tokens): 150k input and 10k output tokens cost $0.60. */
const TURN_USAGE: FakeUsage = { inputTokens: 150_000, outputTokens: 10_000 };
const MODEL = 'claude-sonnet-4-5';

describe('loki task run --provider claude-code --budget (real Claude Code binary, fake Anthropic API)', () => {
  let api: ClaudeCodeFakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('interrupts Claude Code when the next turn could cross the cap: exit 4, what was spent reported', async () => {
    using workspace = new TempWorkspace('loki-task-claude-budget-');
    await using home = await createClaudeCodeHome();
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    api = await startClaudeCodeFakeApi();
    for (let turn = 1; turn <= 6; turn += 1) {
      api.enqueue(
        fakeReply.toolCall(
          'Bash',
          { command: `echo ${turn} >> turns.txt`, description: 'Count' },
          { usage: TURN_USAGE },
        ),
      );
    }
    api.enqueue(fakeReply.text('Done.', TURN_USAGE));
    const environment = home.environment(api);
    const result = await loki(
      workspace,
      [
        'task',
        'run',
        'Count turns',
        '--provider',
        'claude-code',
        '--model',
        MODEL,
        '--budget',
        '1.5',
        '--verify',
        'true',
      ],
      { env: { ...environment, PATH: `${dirname(CLAUDE_CODE_EXECUTABLE)}:${environment.PATH ?? ''}` } },
    );
    expect(result.exitCode).toBe(4);
    expect(api.conversationRequests().length).toBeLessThanOrEqual(3);
    const spent = /spent \$(\d+\.\d+) of \$1\.50; the CLI's last turn may overshoot by one turn/.exec(
      result.stderr,
    );
    expect(spent, result.stderr).not.toBeNull();
    const spentUsd = Number(spent?.[1]);
    // Every turn that ran was charged at Loki's prices, and at most one turn went past the cap.
    expect(spentUsd).toBeCloseTo(0.6 * api.conversationRequests().length, 2);
    expect(spentUsd).toBeLessThanOrEqual(1.5 + 0.6 + 1e-9);
    // Claude Code was told the same output bound the reservation assumed, and its own budget cap.
    const first = api.conversationRequests()[0]?.body as { max_tokens?: number };
    expect(first.max_tokens).toBe(8192);
  });
});
