import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { eventDataSchemas } from './event-schemas.ts';
import { EVENT_TYPES, type EventDataByType, type EventType, type NewEvent } from './event-types.ts';
import { parseNewEvent } from './parse-new-event.ts';

/** One well-formed event of every type; the type annotation makes a missing one a compile error. */
const SAMPLE_DATA: { [Type in EventType]: EventDataByType[Type] } = {
  'task.enqueued': {
    type: 'eng-backend',
    title: 'a',
    priority: 5,
    dependencies: ['b'],
    idempotencyKey: null,
  },
  'task.claimed': { workerId: 'w', attempt: 1, leaseExpiresAt: 1_000 },
  'task.completed': { workerId: 'w', attempt: 1 },
  'task.failed': {
    workerId: 'w',
    attempt: 1,
    error: 'boom',
    failureCount: 1,
    backoffSeconds: 10.5,
    availableAt: 2_000,
  },
  'task.dead_lettered': { workerId: null, error: 'boom', failureCount: 3 },
  'task.lease_expired': { workerId: 'w', reason: 'claim_timeout', failureCount: 1 },
  'task.cancelled': { previousStatus: 'pending', reason: null },
  'task.retried': { previousStatus: 'dead_letter' },
  'task.released': { workerId: 'w', reason: 'stop' },
  'task.deferred': { workerId: 'w', addedDependencies: ['c'], reason: 'merge conflict' },
  'task.reprioritized': { previousPriority: 5, priority: 8 },
  'task.abandoned': { workerId: 'w', reason: 'lease lost' },
  'workspace.initialized': { root: '/project', hasPrd: true },
  'run.started': { prdPath: null, resumed: false },
  'run.settings_recorded': {
    settings: {
      provider: 'scripted',
      models: { planning: null, default: 'model', fast: null },
      script: null,
      parallel: 2,
      budgetUsd: null,
      maxTaskAttempts: 3,
      perpetual: false,
      maxIterations: null,
      deploy: true,
      store: { kind: 'sqlite', location: '.loki/loki.db' },
    },
    given: ['parallel'],
  },
  'run.gates_recorded': { verifyCommands: ['npm test'] },
  'phase.entered': { phase: 'bootstrap' },
  'run.ended': { status: 'completed', outcome: 'completed', exitCode: 0 },
  'run.stop_requested': { requestedBy: 'cli' },
  'run.paused': { requestedBy: 'dashboard' },
  'run.continued': { requestedBy: 'resume' },
  'phase.exited': { phase: 'qa', outcome: 'passed', details: 'all gates green' },
  'merge.completed': { commit: 'abc', previousMain: 'def', resolves: null },
  'merge.rejected': { outcome: 'conflict', details: 'src/a.ts', resolutionTaskId: 'task-r' },
  'merge.requested': {
    requestId: 'r1',
    workerId: 'w1',
    branch: 'loki/task-a',
    commit: 'abc',
    agentType: 'eng-backend',
    title: 'A',
    verifyCommands: ['npm test'],
    trailers: { 'Loki-Task': 'task-a' },
  },
  'merge.decided': {
    requestId: 'r1',
    outcome: 'merged',
    commit: 'abc',
    previousMain: 'def',
    files: [],
    details: '',
    command: null,
    exitCode: null,
    gate: null,
    alreadyOnMain: false,
  },
  'workers.limited': { requested: 10, limit: 4, reason: 'memory' },
  'worker.joined': {
    workerId: 'worker:host-a:4242',
    machine: 'host-a',
    pid: 4242,
    role: 'worker',
    parallel: 4,
    types: ['eng-backend'],
  },
  'worker.left': { workerId: 'worker:host-a:4242', machine: 'host-a' },
  'agent.started': { agentType: 'eng-backend', runtime: 'api', provider: 'anthropic', model: 'm' },
  'agent.text': { text: 'thinking' },
  'agent.tool_called': { toolCallId: 'c1', toolName: 'read_file', input: undefined },
  'agent.tool_result': {
    toolCallId: 'c1',
    toolName: 'read_file',
    isError: false,
    output: 'text',
    fullOutputPath: null,
    durationMilliseconds: 3.5,
  },
  'usage.recorded': {
    provider: 'anthropic',
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.001,
    isPriceKnown: true,
  },
  'agent.retry': { attempt: 2, delayMilliseconds: 500, category: 'transient', reason: '529' },
  'agent.rate_limited': { provider: 'anthropic', retryAfterMilliseconds: null },
  'agent.error': { code: 'X', category: 'internal', message: 'bad' },
  'agent.finished': { reason: 'task_complete', steps: 4, summary: null },
  'sandbox.refused': { toolName: 'bash', reason: 'command_denied', detail: 'rm -rf /' },
  'breaker.changed': { breaker: 'provider:anthropic', state: 'half_open', consecutiveFailures: 0 },
  'verification.ran': {
    command: 'npm test',
    exitCode: null,
    passed: false,
    durationMilliseconds: 12,
    outputTail: '',
  },
  'gate.evaluated': {
    stage: 'merge',
    gate: 'unit-tests',
    verdict: 'fail',
    reason: 'tests failed: 3 passed, 1 failed (vitest)',
    commit: 'abc123',
    blocks: true,
    command: 'npm test',
    exitCode: 1,
    durationMilliseconds: 812,
    counts: { passed: 3, failed: 1, skipped: 0, framework: 'vitest' },
    outputExcerpt: 'FAIL src/sum.test.ts',
  },
  'secret.found': { files: [{ path: '.env', secrets: ['the value of ANTHROPIC_API_KEY'] }] },
  'acceptance.sealed': {
    forTaskId: 'add-todo',
    files: [
      { path: 'test/todo.test.js', sha256: 'a'.repeat(64), content: "it('REQ-001 adds', () => {});\n" },
    ],
  },
  'acceptance.tampered': {
    changes: [
      { path: 'test/todo.test.js', kind: 'skipped', detail: 'line 3 adds .skip, which skips a test' },
    ],
  },
  'review.finding_reported': {
    reviewer: 'review-security',
    round: 1,
    severity: 'Critical',
    file: 'src/a.ts',
    line: 3,
    message: 'SQL built from input',
    suggestedFix: 'use a bound parameter',
    routing: 'fix',
  },
  'review.completed': {
    round: 1,
    outcome: 'changes_requested',
    reviewers: ['review-code', 'review-business', 'review-security'],
    devilsAdvocate: false,
    counts: { critical: 1, high: 0, medium: 0, low: 0, cosmetic: 0 },
    next: 'fix',
  },
  'release.built': {
    version: 'v1',
    commit: 'abc',
    target: 'local',
    directory: '/w/.loki/releases/v1',
    startCommand: 'node server.js',
    healthPath: '/health',
    buildCommand: null,
  },
  'release.deployed': {
    version: 'v2',
    target: 'local',
    strategy: 'canary',
    status: 'rolled_back',
    url: 'http://127.0.0.1:4000',
    reason: 'canary at 10 %: error rate 50.0 %',
    checks: [{ name: 'health', verdict: 'pass', detail: 'GET /health → 200' }],
    canarySteps: [
      {
        percent: 10,
        candidate: { requests: 20, errors: 10, medianLatencyMilliseconds: 1.5 },
        baseline: { requests: 180, errors: 0, medianLatencyMilliseconds: 1.2 },
        passed: false,
      },
    ],
  },
  'release.rolled_back': { target: 'local', fromVersion: 'v2', toVersion: 'v1', url: null, wasWarm: true },
  'deployment.stopped': { target: 'local', version: 'v1' },
};

function sampleEvent(type: EventType): NewEvent {
  return { type, runId: 'run-1', taskId: null, data: SAMPLE_DATA[type] } as NewEvent;
}

function refusalOf(value: unknown): { code: string; message: string; context: Record<string, unknown> } {
  try {
    parseNewEvent(value);
  } catch (error) {
    if (isLokiError(error)) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('parseNewEvent', () => {
  it('has a schema for exactly the event types of the union', () => {
    expect(Object.keys(eventDataSchemas).sort()).toEqual([...EVENT_TYPES].sort());
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });

  it.each(EVENT_TYPES)('accepts a well-formed %s event and returns it unchanged', (type) => {
    const event = sampleEvent(type);
    expect(parseNewEvent(event)).toEqual(event);
  });

  it('refuses a field of the wrong type, naming the event type and the field', () => {
    const refusal = refusalOf({
      ...sampleEvent('task.failed'),
      data: { ...SAMPLE_DATA['task.failed'], failureCount: '1' },
    });
    expect(refusal.code).toBe('EVENT_INVALID');
    expect(refusal.message).toContain('"task.failed"');
    expect(refusal.message).toContain('data.failureCount');
    expect(refusal.context).toMatchObject({ eventType: 'task.failed', field: 'data.failureCount' });
  });

  it('refuses data of another type, a stray field, a missing field and values JSON cannot keep', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...sampleEvent('task.claimed'), data: SAMPLE_DATA['task.completed'] }, 'data.leaseExpiresAt'],
      [{ ...sampleEvent('phase.entered'), data: { phase: 'qa', phaze: 'qa' } }, 'phaze'],
      [{ ...sampleEvent('run.ended'), runId: undefined }, 'runId'],
      [
        { ...sampleEvent('usage.recorded'), data: { ...SAMPLE_DATA['usage.recorded'], costUsd: NaN } },
        'costUsd',
      ],
      [{ ...sampleEvent('task.claimed'), data: { ...SAMPLE_DATA['task.claimed'], attempt: 1.5 } }, 'attempt'],
      [
        { ...sampleEvent('breaker.changed'), data: { ...SAMPLE_DATA['breaker.changed'], state: 'ajar' } },
        'state',
      ],
      [{ ...sampleEvent('run.started'), sequence: 4 }, 'sequence'],
    ];
    for (const [value, field] of cases) {
      const refusal = refusalOf(value);
      expect(refusal.code).toBe('EVENT_INVALID');
      expect(refusal.message, JSON.stringify(value)).toContain(field);
    }
  });

  it('refuses an unknown type and something that is not an event at all', () => {
    expect(refusalOf({ type: 'task.exploded', runId: null, taskId: null, data: {} }).message).toContain(
      '"task.exploded"',
    );
    expect(refusalOf(null).message).toContain('(no type)');
    expect(refusalOf('task.claimed').code).toBe('EVENT_INVALID');
  });
});
