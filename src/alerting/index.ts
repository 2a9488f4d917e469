export { type Alert, ALERT_SEVERITIES, type AlertSeverity, isAtLeast } from './alert.ts';
export { type AlertChannel, type AlertRequest, createAlertChannel } from './alert-channel.ts';
export { type AlertDeliveryStats, AlertDispatcher, type AlertDispatcherOptions } from './alert-dispatcher.ts';
export {
  type AlertChannelConfig,
  type AlertingConfig,
  alertingConfigPath,
  loadAlertingConfig,
  type LoadedAlertingConfig,
  parseAlertingConfig,
} from './alerting-config.ts';
export { type AlertableEvent, alertsOfEvent, RELEASE_DEPLOYED } from './alerts-of-event.ts';
export { deliverAlert, type DeliveryPolicy, type DeliveryResult } from './deliver-alert.ts';
export {
  type AlertingEnvironment,
  type AlertingSetup,
  prepareAlerting,
  type RunAlerting,
  startRunAlerting,
} from './run-alerting.ts';
export { sendTestAlerts, type TestAlertResult } from './send-test-alerts.ts';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook-channel.ts';
