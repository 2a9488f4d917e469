import { type Alert, isAtLeast } from './alert.ts';
import type { AlertChannelConfig } from './alerting-config.ts';
import { pagerDutyRequest } from './pagerduty-channel.ts';
import { slackRequest } from './slack-channel.ts';
import { webhookRequest } from './webhook-channel.ts';

/** One HTTP POST that delivers an alert; built fresh for each attempt (a signature has a timestamp). */
export interface AlertRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A place alerts go. The wire formats differ; filtering and delivery are the same for all. */
export interface AlertChannel {
  readonly name: string;
  readonly kind: AlertChannelConfig['type'];
  /** Whether the channel can close what it opened: it receives `resolve` alerts. */
  readonly canResolve: boolean;
  accepts(alert: Alert): boolean;
  request(alert: Alert, now: number): AlertRequest;
}

export function createAlertChannel(config: AlertChannelConfig): AlertChannel {
  const canResolve = config.type === 'pagerduty';
  return {
    name: config.name,
    kind: config.type,
    canResolve,
    accepts(alert) {
      if (config.events !== undefined && !config.events.includes(alert.eventType as never)) {
        return alert.eventType === 'alert.test';
      }
      // A resolve passes any severity filter: it closes only what a trigger under its key opened.
      if (alert.action === 'resolve') return canResolve;
      return isAtLeast(alert.severity, config.minSeverity);
    },
    request(alert, now) {
      if (config.type === 'slack') return slackRequest(config.webhookUrl, alert);
      if (config.type === 'pagerduty') return pagerDutyRequest(config.url, config.routingKey, alert);
      return webhookRequest(config.url, config.secret, alert, now);
    },
  };
}
