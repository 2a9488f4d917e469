/**
 * One thing a person should know about, as every channel receives it. Built from an event of the
 * run (alerts-of-event.ts) or by `loki alert test`; a channel turns it into its own wire format.
 */

/** PagerDuty's four levels, which the other channels reuse so one filter means the same everywhere. */
export const ALERT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface Alert {
  /**
   * `trigger` reports a problem (or news, at info); `resolve` says the problem under the same
   * `dedupKey` is over. Only channels that can close what they opened (PagerDuty) send resolves.
   */
  action: 'trigger' | 'resolve';
  severity: AlertSeverity;
  /** Stable per problem, so a repeat updates the open incident instead of opening another. */
  dedupKey: string;
  /** One line, e.g. "Loki run run-abc is blocked". */
  title: string;
  /** A few sentences: what happened and what the person should do next. */
  summary: string;
  /** The Loki event type that raised it (`run.ended`, `breaker.changed`, … or `alert.test`). */
  eventType: string;
  runId: string | null;
  /** Where it happened: the workspace's directory name. */
  source: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Small facts worth showing beside the summary (outcome, exit code, breaker name). */
  details: Record<string, string | number | boolean | null>;
}

export function isAtLeast(severity: AlertSeverity, minimum: AlertSeverity): boolean {
  return ALERT_SEVERITIES.indexOf(severity) >= ALERT_SEVERITIES.indexOf(minimum);
}
