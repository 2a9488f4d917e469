import { z } from 'zod';
import type { EventDataByType, EventType } from './event-types.ts';

/**
 * The runtime twin of event-types.ts: one zod schema per event type, checked by the store on every
 * append (parse-new-event.ts). Objects are strict, so a misspelt or stray field is refused rather
 * than stored; numbers are finite (JSON would turn NaN and Infinity into null), and counts are
 * whole and never negative.
 *
 * The schemas mirror the TypeScript types exactly (`SchemasThatDrifted` below fails the typecheck
 * otherwise), so a field added to an event type without its schema, or the other way round, is a
 * compile error naming the event type, not a run refused at its first append.
 */

const count = z.int().nonnegative();
const milliseconds = z.number().nonnegative();
/** Epoch milliseconds from the injected clock: finite, but a manual clock may start anywhere. */
const timestamp = z.number();
const trafficSample = z.strictObject({
  requests: count,
  errors: count,
  medianLatencyMilliseconds: milliseconds.nullable(),
});
const failureCategory = z.enum(['transient', 'rate_limited', 'permanent']);

const runSettings = z.strictObject({
  provider: z.string(),
  models: z.strictObject({
    planning: z.string().nullable(),
    default: z.string().nullable(),
    fast: z.string().nullable(),
  }),
  script: z.string().nullable(),
  parallel: count,
  budgetUsd: z.number().nonnegative().nullable(),
  maxTaskAttempts: count,
  perpetual: z.boolean(),
  maxIterations: count.nullable(),
  deploy: z.boolean(),
  store: z.strictObject({ kind: z.string(), location: z.string() }),
});

/** Who asked a live run to stop, pause or continue. */
const runControl = z.strictObject({
  requestedBy: z.enum(['cli', 'signal', 'dashboard', 'mcp', 'resume']),
});

export const eventDataSchemas = {
  'task.enqueued': z.strictObject({
    type: z.string(),
    title: z.string(),
    priority: z.int(),
    dependencies: z.array(z.string()),
    idempotencyKey: z.string().nullable(),
  }),
  'task.claimed': z.strictObject({ workerId: z.string(), attempt: count, leaseExpiresAt: timestamp }),
  'task.completed': z.strictObject({ workerId: z.string(), attempt: count }),
  'task.failed': z.strictObject({
    workerId: z.string(),
    attempt: count,
    error: z.string(),
    failureCount: count,
    backoffSeconds: z.number().nonnegative(),
    availableAt: timestamp,
  }),
  'task.dead_lettered': z.strictObject({
    workerId: z.string().nullable(),
    error: z.string(),
    failureCount: count,
  }),
  'task.lease_expired': z.strictObject({
    workerId: z.string().nullable(),
    reason: z.literal('claim_timeout'),
    failureCount: count,
  }),
  'task.cancelled': z.strictObject({ previousStatus: z.string(), reason: z.string().nullable() }),
  'task.retried': z.strictObject({ previousStatus: z.string() }),
  'task.released': z.strictObject({
    workerId: z.string().nullable(),
    reason: z.string(),
    availableAt: timestamp.optional(),
  }),
  'task.deferred': z.strictObject({
    workerId: z.string(),
    addedDependencies: z.array(z.string()),
    reason: z.string(),
  }),
  'task.reprioritized': z.strictObject({ previousPriority: z.int(), priority: z.int() }),
  'task.abandoned': z.strictObject({ workerId: z.string(), reason: z.string() }),
  'workspace.initialized': z.strictObject({ root: z.string(), hasPrd: z.boolean() }),
  'run.started': z.strictObject({ prdPath: z.string().nullable(), resumed: z.boolean() }),
  'run.settings_recorded': z.strictObject({ settings: runSettings, given: z.array(z.string()) }),
  'run.gates_recorded': z.strictObject({ verifyCommands: z.array(z.string().min(1)).min(1) }),
  'phase.entered': z.strictObject({ phase: z.string() }),
  'run.ended': z.strictObject({
    status: z.enum(['completed', 'stopped', 'failed']),
    outcome: z.enum(['completed', 'not_verified', 'budget', 'blocked', 'stalled', 'stopped', 'failed']),
    exitCode: z.number().int().nullable(),
  }),
  'run.stop_requested': runControl,
  'run.paused': runControl,
  'run.continued': runControl,
  'phase.exited': z.strictObject({
    phase: z.string(),
    outcome: z.enum(['passed', 'failed', 'stopped']),
    details: z.string(),
  }),
  'merge.completed': z.strictObject({
    commit: z.string(),
    previousMain: z.string(),
    resolves: z.string().nullable(),
  }),
  'merge.rejected': z.strictObject({
    outcome: z.enum(['conflict', 'verification_failed']),
    details: z.string(),
    resolutionTaskId: z.string(),
  }),
  'merge.requested': z.strictObject({
    requestId: z.string().min(1),
    workerId: z.string().min(1),
    branch: z.string().min(1),
    commit: z.string().min(1),
    agentType: z.string(),
    title: z.string(),
    verifyCommands: z.array(z.string()),
    trailers: z.record(z.string(), z.string()),
  }),
  'merge.decided': z.strictObject({
    requestId: z.string().min(1),
    outcome: z.enum(['merged', 'conflict', 'verification_failed', 'withdrawn']),
    commit: z.string().nullable(),
    previousMain: z.string().nullable(),
    files: z.array(z.string()),
    details: z.string(),
    command: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    gate: z.strictObject({ name: z.string(), reason: z.string(), hasCommand: z.boolean() }).nullable(),
    alreadyOnMain: z.boolean(),
  }),
  'workers.limited': z.strictObject({ requested: count, limit: count, reason: z.string().nullable() }),
  'worker.joined': z.strictObject({
    workerId: z.string().min(1),
    machine: z.string().min(1),
    pid: z.int().positive(),
    role: z.enum(['run', 'worker']),
    // 0: a run process that coordinates and leaves every task to workers (loki run --parallel 0).
    parallel: count,
    types: z.array(z.string().min(1)).nullable(),
  }),
  'worker.left': z.strictObject({ workerId: z.string().min(1), machine: z.string().min(1) }),
  'agent.started': z.strictObject({
    agentType: z.string(),
    runtime: z.enum(['api', 'claude-code', 'codex', 'scripted']),
    provider: z.string(),
    model: z.string(),
  }),
  'agent.text': z.strictObject({ text: z.string() }),
  'agent.tool_called': z.strictObject({ toolCallId: z.string(), toolName: z.string(), input: z.unknown() }),
  'agent.tool_result': z.strictObject({
    toolCallId: z.string(),
    toolName: z.string(),
    isError: z.boolean(),
    output: z.string(),
    fullOutputPath: z.string().nullable(),
    durationMilliseconds: milliseconds,
  }),
  'usage.recorded': z.strictObject({
    provider: z.string(),
    model: z.string(),
    inputTokens: count,
    outputTokens: count,
    cacheReadTokens: count,
    cacheWriteTokens: count,
    costUsd: z.number().nonnegative(),
    isPriceKnown: z.boolean(),
  }),
  'agent.retry': z.strictObject({
    attempt: count,
    delayMilliseconds: milliseconds,
    category: failureCategory,
    reason: z.string(),
  }),
  'agent.rate_limited': z.strictObject({
    provider: z.string(),
    retryAfterMilliseconds: milliseconds.nullable(),
  }),
  'agent.error': z.strictObject({
    code: z.string(),
    category: z.enum([...failureCategory.options, 'internal']),
    message: z.string(),
  }),
  'agent.finished': z.strictObject({
    reason: z.enum(['task_complete', 'step_limit', 'loop_detected', 'no_progress', 'error', 'aborted']),
    steps: count,
    summary: z.string().nullable(),
  }),
  'sandbox.refused': z.strictObject({ toolName: z.string(), reason: z.string(), detail: z.string() }),
  'breaker.changed': z.strictObject({
    breaker: z.string(),
    state: z.enum(['closed', 'open', 'half_open']),
    consecutiveFailures: count,
  }),
  'verification.ran': z.strictObject({
    command: z.string(),
    exitCode: z.int().nullable(),
    passed: z.boolean(),
    durationMilliseconds: milliseconds,
    outputTail: z.string(),
  }),
  'gate.evaluated': z.strictObject({
    stage: z.enum(['merge', 'qa', 'deployment']),
    gate: z.string(),
    verdict: z.enum(['pass', 'fail', 'not-proven']),
    reason: z.string(),
    commit: z.string(),
    blocks: z.boolean(),
    command: z.string().nullable(),
    exitCode: z.int().nullable(),
    durationMilliseconds: milliseconds,
    counts: z
      .strictObject({ passed: count, failed: count, skipped: count, framework: z.string() })
      .nullable(),
    outputExcerpt: z.string(),
  }),
  'secret.found': z.strictObject({
    files: z.array(z.strictObject({ path: z.string(), secrets: z.array(z.string()) })),
  }),
  'acceptance.sealed': z.strictObject({
    forTaskId: z.string().nullable(),
    files: z.array(
      z.strictObject({ path: z.string(), sha256: z.string().nullable(), content: z.string().nullable() }),
    ),
  }),
  'acceptance.tampered': z.strictObject({
    changes: z.array(
      z.strictObject({
        path: z.string(),
        kind: z.enum([
          'deleted',
          'test_removed',
          'skipped',
          'focused',
          'emptied',
          'assertion_removed',
          'modified',
        ]),
        detail: z.string(),
      }),
    ),
  }),
  'review.finding_reported': z.strictObject({
    reviewer: z.string(),
    round: count,
    severity: z.enum(['Critical', 'High', 'Medium', 'Low', 'Cosmetic']),
    file: z.string(),
    line: count,
    message: z.string(),
    suggestedFix: z.string(),
    routing: z.enum(['fix', 'todo_comment', 'nitpick_comment']),
  }),
  'review.completed': z.strictObject({
    round: count,
    outcome: z.enum(['approved', 'changes_requested']),
    reviewers: z.array(z.string()),
    devilsAdvocate: z.boolean(),
    counts: z.strictObject({
      critical: count,
      high: count,
      medium: count,
      low: count,
      cosmetic: count,
    }),
    next: z.enum(['merge', 'fix', 'fail']),
  }),
  'release.built': z.strictObject({
    version: z.string(),
    commit: z.string(),
    target: z.string(),
    directory: z.string(),
    startCommand: z.string(),
    healthPath: z.string(),
    buildCommand: z.string().nullable(),
  }),
  'release.deployed': z.strictObject({
    version: z.string(),
    target: z.string(),
    strategy: z.enum(['blue-green', 'canary']),
    status: z.enum(['live', 'rolled_back', 'failed', 'not_proven']),
    url: z.string().nullable(),
    reason: z.string().nullable(),
    checks: z.array(
      z.strictObject({
        name: z.string(),
        verdict: z.enum(['pass', 'fail', 'not-proven']),
        detail: z.string(),
      }),
    ),
    canarySteps: z.array(
      z.strictObject({
        percent: z.number().min(0).max(100),
        candidate: trafficSample,
        baseline: trafficSample,
        passed: z.boolean(),
      }),
    ),
  }),
  'release.rolled_back': z.strictObject({
    target: z.string(),
    fromVersion: z.string().nullable(),
    toVersion: z.string(),
    url: z.string().nullable(),
    wasWarm: z.boolean(),
  }),
  'deployment.stopped': z.strictObject({ target: z.string(), version: z.string().nullable() }),
} satisfies { [Type in EventType]: z.ZodType };

type EventDataSchemas = typeof eventDataSchemas;

/**
 * The event types whose schema and TypeScript type disagree, in either direction: a value of the
 * type the schema would refuse by shape, or a value the schema lets through that the type does not
 * describe. It must be `never`; the line below turns any other answer into a compile error.
 */
type SchemasThatDrifted = {
  [Type in EventType]: [EventDataByType[Type]] extends [z.input<EventDataSchemas[Type]>]
    ? [z.output<EventDataSchemas[Type]>] extends [EventDataByType[Type]]
      ? never
      : Type
    : Type;
}[EventType];
type MustBeNever<Value extends never> = Value;
export type EventSchemasMatchTheirTypes = MustBeNever<SchemasThatDrifted>;

/** The envelope every event shares, with its own type and the data schema of that type. */
function eventSchema<Type extends EventType>(type: Type) {
  return z.strictObject({
    type: z.literal(type),
    runId: z.string().nullable(),
    taskId: z.string().nullable(),
    data: eventDataSchemas[type],
  });
}

const [firstEventType, ...otherEventTypes] = Object.keys(eventDataSchemas) as EventType[];
if (firstEventType === undefined) throw new Error('eventDataSchemas is empty');

/**
 * Any event about to be appended, discriminated on `type`: one lookup picks the one schema to run,
 * so checking an event costs one object walk however many types there are.
 */
export const newEventSchema = z.discriminatedUnion('type', [
  eventSchema(firstEventType),
  ...otherEventTypes.map(eventSchema),
]);
