import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import type { EventDataByType, EventType, NewEvent } from '../../events/index.ts';
import { bindEventEmitter } from './bind-event-emitter.ts';
import { classifyClaudeCodeApiError, classifyClaudeCodeExit } from './classify-claude-code-failure.ts';
import { ClaudeCodeStreamMapper } from './claude-code-stream-mapper.ts';
import { buildClaudeCodeArguments, buildClaudeCodeEnvironment } from './build-claude-code-invocation.ts';

function setup(): { mapper: ClaudeCodeStreamMapper; events: NewEvent[]; clock: ManualClock } {
  const events: NewEvent[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 1));
  const mapper = new ClaudeCodeStreamMapper({
    emit: bindEventEmitter((event) => events.push(event), 'run-1', 'task-1'),
    clock,
  });
  return { mapper, events, clock };
}

function dataOf<Type extends EventType>(events: NewEvent[], type: Type): EventDataByType[Type][] {
  return events.filter((event) => event.type === type).map((event) => event.data as EventDataByType[Type]);
}

const line = (value: unknown): string => JSON.stringify(value);

describe('Claude Code stream-json mapping', () => {
  it('logs an unparseable line as an internal error and keeps going', () => {
    const { mapper, events } = setup();
    mapper.handleLine('{"type":"assistant","message":');
    mapper.handleLine(line({ no: 'type' }));
    mapper.handleLine(line({ type: 'system', subtype: 'init', session_id: 's-1', model: 'claude-opus-4-7' }));

    // The init line only names the session: agent.started is the RARV cycle's to write.
    expect(events.map((event) => event.type)).toEqual(['agent.error', 'agent.error']);
    expect(dataOf(events, 'agent.error')[0]).toMatchObject({
      code: 'CLAUDE_CODE_UNPARSEABLE_OUTPUT',
      category: 'internal',
    });
    expect(mapper.sessionId).toBe('s-1');
  });

  it('ignores line types it does not know and thinking blocks', () => {
    const { mapper, events } = setup();
    mapper.handleLine(line({ type: 'system', subtype: 'hook_started', hook: 'x' }));
    mapper.handleLine(line({ type: 'stream_event', event: {} }));
    mapper.handleLine(
      line({
        type: 'assistant',
        message: { id: 'msg_1', model: 'm', content: [{ type: 'thinking', thinking: 'hmm' }] },
      }),
    );
    expect(events).toEqual([]);
    expect(mapper.steps).toBe(1);
  });

  it('pairs tool results with their calls, whatever shape the result content has', () => {
    const { mapper, events } = setup();
    mapper.handleLine(
      line({
        type: 'assistant',
        message: {
          id: 'msg_1',
          model: 'm',
          content: [{ type: 'tool_use', id: 't1', name: 'Read', input: { file_path: '/a' } }],
        },
      }),
    );
    mapper.handleLine(
      line({
        type: 'user',
        message: {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              content: [{ type: 'text', text: 'line 1' }, { type: 'image' }],
            },
          ],
        },
      }),
    );
    expect(dataOf(events, 'agent.tool_result')).toEqual([
      expect.objectContaining({
        toolCallId: 't1',
        toolName: 'Read',
        isError: false,
        output: 'line 1\n[image]',
      }),
    ]);
  });

  it('reports its own rate-limited retries as rate_limited and retry events', () => {
    const { mapper, events } = setup();
    mapper.handleLine(
      line({
        type: 'system',
        subtype: 'api_retry',
        attempt: 2,
        max_retries: 3,
        retry_delay_ms: 4000,
        error_status: 429,
        error: 'rate_limit',
      }),
    );
    expect(events.map((event) => event.type)).toEqual(['agent.rate_limited', 'agent.retry']);
    expect(dataOf(events, 'agent.rate_limited')).toEqual([
      { provider: 'claude-code', retryAfterMilliseconds: 4000 },
    ]);
    expect(dataOf(events, 'agent.retry')).toEqual([
      expect.objectContaining({ attempt: 2, delayMilliseconds: 4000, category: 'rate_limited' }),
    ]);
  });

  it('turns a rejected subscription limit into rate_limited with the wait until its reset', () => {
    const { mapper, events, clock } = setup();
    const resetsAt = clock.now() / 1000 + 90;
    mapper.handleLine(
      line({ type: 'rate_limit_event', rate_limit_info: { status: 'allowed_warning', resetsAt } }),
    );
    mapper.handleLine(line({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt } }));
    expect(dataOf(events, 'agent.rate_limited')).toEqual([
      { provider: 'claude-code', retryAfterMilliseconds: 90_000 },
    ]);
  });

  it('keeps the synthetic API-error message out of the text and remembers the failure', () => {
    const { mapper, events } = setup();
    mapper.handleLine(
      line({
        type: 'assistant',
        message: {
          id: 'x',
          model: '<synthetic>',
          content: [{ type: 'text', text: 'Not logged in · Please run /login' }],
        },
        error: 'authentication_failed',
        is_api_error_message: true,
      }),
    );
    expect(events).toEqual([]);
    expect(mapper.steps).toBe(0);
    expect(mapper.attemptApiError).toEqual({
      error: 'authentication_failed',
      status: null,
      type: null,
      message: 'Not logged in · Please run /login',
    });
  });

  it('prices unknown models with Claude Code’s own figure rather than calling them free', () => {
    const { mapper, events } = setup();
    mapper.handleLine(
      line({
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 1,
        result: 'ok',
        total_cost_usd: 0.5,
        modelUsage: {
          'claude-future-9': {
            inputTokens: 10,
            outputTokens: 1,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
            costUSD: 0.5,
          },
          'claude-mystery-1': {
            inputTokens: 3,
            outputTokens: 1,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
            costUSD: 0,
          },
        },
      }),
    );
    expect(dataOf(events, 'usage.recorded')).toEqual([
      expect.objectContaining({ model: 'claude-future-9', costUsd: 0.5, isPriceKnown: true }),
      expect.objectContaining({ model: 'claude-mystery-1', costUsd: 0, isPriceKnown: false }),
    ]);
    expect(mapper.usage).toMatchObject({ inputTokens: 13, costUsd: 0.5, isCostKnown: false });
  });
});

describe('Claude Code failure classification', () => {
  it('treats missing credentials as a permanent auth error that says what to set', () => {
    const failure = classifyClaudeCodeApiError({
      error: 'authentication_failed',
      status: null,
      type: null,
      message: 'Not logged in · Please run /login',
    });
    expect(failure).toMatchObject({ category: 'permanent', code: 'PROVIDER_AUTH' });
    expect(failure.message).toContain('ANTHROPIC_API_KEY');
  });

  it('classifies API statuses with the provider rules', () => {
    const classify = (status: number | null, error: string | null) =>
      classifyClaudeCodeApiError({ error, status, type: null, message: 'x' }).category;
    expect(classify(529, 'overloaded')).toBe('transient');
    expect(classify(500, 'server_error')).toBe('transient');
    expect(classify(429, 'rate_limit')).toBe('rate_limited');
    expect(classify(null, 'rate_limit')).toBe('rate_limited');
    expect(classify(401, 'authentication_failed')).toBe('permanent');
    expect(classify(null, 'billing_error')).toBe('permanent');
  });

  it('explains the refusal to bypass permissions as root', () => {
    const failure = classifyClaudeCodeExit(
      {
        exitCode: 1,
        exitSignal: null,
        wasStopped: false,
        spawnError: null,
        stderrTail:
          '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n',
        survivorPids: [],
      },
      'claude',
    );
    expect(failure).toMatchObject({ category: 'permanent', code: 'CLAUDE_CODE_ROOT_REFUSED' });
    expect(failure.message).toContain('IS_SANDBOX=1');
  });
});

describe('Claude Code invocation', () => {
  it('keeps a prompt that starts with a dash a prompt, and resumes by session id', () => {
    const commandArguments = buildClaudeCodeArguments({
      prompt: '--help me',
      resumeSessionId: 'session-1',
      permissionMode: 'acceptEdits',
      allowedTools: ['Write', 'Bash(git status:*)'],
      maxTurns: 4,
    });
    expect(commandArguments.slice(-2)).toEqual(['--', '--help me']);
    expect(commandArguments).toContain('--allowedTools=Write,Bash(git status:*)');
    expect(commandArguments).toContain('--resume=session-1');
  });

  it('passes only Claude Code’s variables on, and keeps Loki’s retry policy in charge', () => {
    const environment = buildClaudeCodeEnvironment({
      env: {
        PATH: '/bin',
        HOME: '/home/a',
        ANTHROPIC_API_KEY: 'k',
        OPENAI_API_KEY: 'other',
        LOKI_BUDGET: '5',
      },
      maxRetries: 0,
      isRoot: true,
    });
    expect(environment).toMatchObject({
      PATH: '/bin',
      HOME: '/home/a',
      ANTHROPIC_API_KEY: 'k',
      CLAUDE_CODE_MAX_RETRIES: '0',
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    expect(environment.OPENAI_API_KEY).toBeUndefined();
    expect(environment.LOKI_BUDGET).toBeUndefined();
    expect(buildClaudeCodeEnvironment({ env: {}, maxRetries: 2, isRoot: false }).IS_SANDBOX).toBeUndefined();
  });
});
