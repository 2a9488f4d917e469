import type { Alert, AlertSeverity } from './alert.ts';

/**
 * The part of an event that alerting reads. Typed loosely on purpose: an alert must never fail the
 * run because an event's shape is not what it expected.
 */
export interface AlertableEvent {
  type: string;
  runId: string | null;
  taskId?: string | null;
  data: unknown;
  createdAt: number;
}

/** A deployment ended: `status` live, rolled_back (its checks or canary failed) or failed. */
export const RELEASE_DEPLOYED = 'release.deployed';

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
  if (event.type === RELEASE_DEPLOYED) return alertsOfDeployment(data, base, event.runId);
  return [];
}

type AlertBase = Pick<Alert, 'runId' | 'source' | 'createdAt' | 'eventType'>;

/**
 * A rolled-back deploy is critical, one that could not start an error; a live one closes either. A
 * deploy of a run is named after the run; one of `loki deploy` (no run) after the target alone.
 */
function alertsOfDeployment(data: Record<string, unknown>, base: AlertBase, runId: string | null): Alert[] {
  const target = typeof data.target === 'string' ? data.target : 'unknown';
  const version = typeof data.version === 'string' ? data.version : null;
  const reason = typeof data.reason === 'string' ? data.reason : 'no reason recorded';
  const who = runId === null ? 'Loki' : `Loki run ${runId}:`;
  const alert = {
    ...base,
    dedupKey: runId === null ? `loki/deploy/${target}` : `loki/${runId}/deploy/${target}`,
    details: { target, version, status: typeof data.status === 'string' ? data.status : null, reason },
  };
  if (data.status === 'rolled_back') {
    return [
      {
        ...alert,
        action: 'trigger',
        severity: 'critical',
        title: `${who} deploy rolled back on ${target}`,
        summary: `Release ${version ?? ''} was rolled back: ${reason}. The release before it keeps serving; see the deploy report.`,
      },
    ];
  }
  if (data.status === 'failed') {
    return [
      {
        ...alert,
        action: 'trigger',
        severity: 'error',
        title: `${who} deploy failed on ${target}`,
        summary: `Release ${version ?? ''} could not be built or started: ${reason}.`,
      },
    ];
  }
  if (data.status === 'live') {
    return [
      {
        ...alert,
        action: 'resolve',
        severity: 'info',
        title: `deploy live on ${target}`,
        summary: 'It serves.',
      },
    ];
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
