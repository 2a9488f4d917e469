import type { Alert } from './alert.ts';
import type { AlertRequest } from './alert-channel.ts';

/** PagerDuty's documented limits: summary 1024 characters, dedup_key 255. */
const SUMMARY_LIMIT = 1024;
const DEDUP_KEY_LIMIT = 255;

/**
 * A PagerDuty Events API v2 event: `trigger` with the payload (summary, source, severity,
 * timestamp, component, group, class, custom_details), or `resolve` with only the routing and
 * dedup keys. The same dedup key for the same problem makes repeats update one alert.
 */
export function pagerDutyRequest(url: string, routingKey: string, alert: Alert): AlertRequest {
  const dedupKey = alert.dedupKey.slice(0, DEDUP_KEY_LIMIT);
  const event =
    alert.action === 'resolve'
      ? { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey }
      : {
          routing_key: routingKey,
          event_action: 'trigger',
          dedup_key: dedupKey,
          client: 'Loki Mode',
          payload: {
            summary: clip(`${alert.title}. ${alert.summary}`, SUMMARY_LIMIT),
            source: alert.source,
            severity: alert.severity,
            timestamp: new Date(alert.createdAt).toISOString(),
            component: 'loki-mode',
            group: alert.runId ?? 'no-run',
            class: alert.eventType,
            custom_details: { ...alert.details, runId: alert.runId },
          },
        };
  return { url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
