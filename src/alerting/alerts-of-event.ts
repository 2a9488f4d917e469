import type { Alert, AlertSeverity } from './alert.ts';

/**
 * The part of an event that alerting reads. Typed loosely on purpose: an event type this module
 * knows by name may not be in the union yet (the deploy step's `deploy.rolled_back`), and an alert
 * must never fail the run because an event's shape is not what it expected.
 */
export interface AlertableEvent {
  type: string;
  runId: string | null;
  taskId?: string | null;
  data: unknown;
  createdAt: number;
}

/** The deploy step's rollback event, alerted on by name whenever the deploy step records it. */
export const DEPLOY_ROLLED_BACK = 'deploy.rolled_back';

interface OutcomeAlert {
  severity: AlertSeverity;
  title: string;
  advice: string;
}

/** How each end of a run is told. `stopped` (the user asked) and `not_verified` alert nobody. */
const OUTCOME_ALERTS: Partial<Record<string, OutcomeAlert>> = {
  completed: {
    severity: 'info',
    title: 'completed',
    advice: 'The product is built, verified and merged. See the report in .loki/artifacts/reports/.',
  },
  blocked: {
    severity: 'error',
    title: 'is blocked',
    advice: 'It needs a person: read `loki status` and the report, fix the cause, then `loki resume`.',
  },
  stalled: {
    severity: 'error',
    title: 'stalled',
    advice: 'No task could make progress. Read `loki status` and the report, then `loki resume`.',
  },
  budget: {
    severity: 'warning',
    title: 'stopped at its budget cap',
    advice: 'Raise the cap (--budget or LOKI_BUDGET_USD) and `loki resume` to continue.',
  },
  failed: {
    severity: 'error',
    title: 'failed',
    advice: 'Read the report and `loki status` for the reason.',
  },
};

/**
 * The alerts one event raises (usually none). Everything here reads `data` defensively: a value
 * of an unexpected shape gives no alert, never an exception on the run's path.
 */
export function alertsOfEvent(event: AlertableEvent, source: string): Alert[] {
  const data = isRecord(event.data) ? event.data : {};
  const base = { runId: event.runId, source, createdAt: event.createdAt, eventType: event.type };
  const runName = event.runId ?? 'without id';
  if (event.type === 'run.ended') {
    const outcome = typeof data.outcome === 'string' ? data.outcome : '';
    const known = OUTCOME_ALERTS[outcome];
    if (known === undefined) return [];
    const dedupKey = `loki/${runName}/run`;
    const trigger: Alert = {
      ...base,
      action: 'trigger',
      severity: known.severity,
      dedupKey: outcome === 'completed' ? `loki/${runName}/completed` : dedupKey,
      title: `Loki run ${runName} ${known.title}`,
      summary: known.advice,
      details: { outcome, exitCode: typeof data.exitCode === 'number' ? data.exitCode : null },
    };
    // A run that completes after a resume closes the incident its blocked session opened.
    if (outcome !== 'completed') return [trigger];
    return [trigger, { ...trigger, action: 'resolve', dedupKey }];
  }
  if (event.type === 'breaker.changed') {
    const breaker = typeof data.breaker === 'string' ? data.breaker : 'unknown';
    const alert = {
      ...base,
      severity: 'warning' as const,
      dedupKey: `loki/${runName}/breaker/${breaker}`,
      details: {
        breaker,
        failures: typeof data.consecutiveFailures === 'number' ? data.consecutiveFailures : null,
      },
    };
    if (data.state === 'open') {
      return [
        {
          ...alert,
          action: 'trigger',
          title: `Loki run ${runName}: circuit breaker ${breaker} opened`,
          summary: `Calls to ${breaker} failed repeatedly; Loki waits before trying again. Check the provider's status and your credentials.`,
        },
      ];
    }
    if (data.state === 'closed') {
      return [
        {
          ...alert,
          action: 'resolve',
          title: `circuit breaker ${breaker} closed`,
          summary: 'It works again.',
        },
      ];
    }
    return [];
  }
  if (event.type === DEPLOY_ROLLED_BACK) {
    const detail = typeof data.detail === 'string' ? data.detail : 'the deploy did not pass its checks';
    const target = typeof data.target === 'string' ? data.target : null;
    return [
      {
        ...base,
        action: 'trigger',
        severity: 'critical',
        dedupKey: `loki/${runName}/deploy`,
        title: `Loki run ${runName}: deploy rolled back${target === null ? '' : ` on ${target}`}`,
        summary: `The new release was rolled back: ${detail}. The previous release is live; see the deploy report.`,
        details: { target, detail },
      },
    ];
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
