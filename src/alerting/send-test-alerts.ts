import { randomId } from '../clock/index.ts';
import type { Alert } from './alert.ts';
import { deliverAlert } from './deliver-alert.ts';
import { type AlertingEnvironment, prepareAlerting, redactAlert } from './run-alerting.ts';

export interface TestAlertResult {
  channel: string;
  kind: string;
  isDelivered: boolean;
  /** "HTTP 202 after 1 attempt(s)", or why it failed (redacted). */
  detail: string;
}

/**
 * `loki alert test`: one test alert to every configured channel, whatever its filters, each
 * channel's outcome reported. A channel that can resolve gets the resolve too, so the test leaves
 * no open incident behind.
 */
export async function sendTestAlerts(
  environment: AlertingEnvironment,
  signal: AbortSignal = new AbortController().signal,
): Promise<TestAlertResult[]> {
  const setup = prepareAlerting(environment);
  const trigger: Alert = redactAlert(
    {
      action: 'trigger',
      severity: 'info',
      dedupKey: `loki/test/${randomId('alert')}`,
      title: 'Loki Mode test alert',
      summary: 'This channel receives Loki Mode alerts. Nothing is wrong; no action is needed.',
      eventType: 'alert.test',
      runId: null,
      source: setup.source,
      createdAt: environment.clock.now(),
      details: { test: true },
    },
    setup.redactor,
  );
  return await Promise.all(
    setup.channels.map(async (channel): Promise<TestAlertResult> => {
      const sent = await deliverAlert(channel, trigger, setup.policy, signal);
      const resolved =
        sent.isDelivered && channel.canResolve
          ? await deliverAlert(channel, { ...trigger, action: 'resolve' }, setup.policy, signal)
          : null;
      const result = resolved ?? sent;
      const detail = result.isDelivered
        ? `HTTP ${result.status} after ${result.attempts} attempt(s)${resolved === null ? '' : ' (triggered and resolved)'}`
        : `${result.reason} after ${result.attempts} attempt(s)`;
      return {
        channel: channel.name,
        kind: channel.kind,
        isDelivered: result.isDelivered,
        detail: setup.redactor.redact(detail),
      };
    }),
  );
}
