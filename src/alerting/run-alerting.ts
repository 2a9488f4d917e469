import { basename } from 'node:path';
import { type Clock, type RandomSource, systemRandom } from '../clock/index.ts';
import { createRedactor, type Redactor } from '../sandbox/index.ts';
import type { Alert } from './alert.ts';
import { type AlertChannel, createAlertChannel } from './alert-channel.ts';
import { AlertDispatcher, type AlertDeliveryStats } from './alert-dispatcher.ts';
import { type AlertingConfig, loadAlertingConfig } from './alerting-config.ts';
import { type AlertableEvent, alertsOfEvent } from './alerts-of-event.ts';
import type { DeliveryPolicy } from './deliver-alert.ts';

export interface AlertingEnvironment {
  /** The workspace root: its `.loki/config/alerting.yaml` is read, its name is the alerts' source. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  random?: RandomSource;
  fetch?: typeof fetch;
}

export interface RunAlerting {
  readonly channelCount: number;
  /** Looks at one event of the run; returns at once, never throws. */
  notice(event: AlertableEvent): void;
  /** Ends alerting for this run: waits the configured grace for deliveries still on their way. */
  close(): Promise<AlertDeliveryStats>;
}

/** The workspace's channels, ready to send: the config read and validated, secrets known to the redactor. */
export interface AlertingSetup {
  config: AlertingConfig;
  channels: AlertChannel[];
  redactor: Redactor;
  policy: DeliveryPolicy;
  source: string;
}

/** Reads and checks alerting.yaml; an invalid file is refused here, before a run starts. */
export function prepareAlerting(environment: AlertingEnvironment): AlertingSetup {
  const loaded = loadAlertingConfig(environment.cwd, environment.env);
  const delivery = loaded.config.delivery;
  return {
    config: loaded.config,
    channels: loaded.config.channels.map(createAlertChannel),
    redactor: createRedactor({ env: environment.env, extraSecrets: loaded.secrets }),
    policy: {
      maxAttempts: delivery.maxAttempts,
      timeoutMilliseconds: delivery.timeoutSeconds * 1000,
      baseDelayMilliseconds: 500,
      maxDelayMilliseconds: 30_000,
      random: environment.random ?? systemRandom,
      now: () => environment.clock.now(),
      fetch: environment.fetch ?? fetch,
    },
    source: basename(environment.cwd),
  };
}

/**
 * Alerting for one session of a run: each event that alerts (alerts-of-event.ts) goes to every
 * channel whose filters accept it, through a bounded queue off the run's path.
 */
export function startRunAlerting(environment: AlertingEnvironment, log: (text: string) => void): RunAlerting {
  const setup = prepareAlerting(environment);
  const dispatcher = new AlertDispatcher({
    channels: setup.channels,
    policy: setup.policy,
    queueSize: setup.config.delivery.queueSize,
    redactor: setup.redactor,
    log,
  });
  return {
    channelCount: setup.channels.length,
    notice(event) {
      if (setup.channels.length === 0) return;
      let alerts: Alert[];
      try {
        alerts = alertsOfEvent(event, setup.source);
      } catch (error) {
        // An alert is never worth a run: an event alerting cannot read is skipped and said.
        log(setup.redactor.redact(`cannot build an alert from ${event.type}: ${String(error)}`));
        return;
      }
      for (const alert of alerts) dispatcher.enqueue(redactAlert(alert, setup.redactor));
    },
    close: () => dispatcher.close(setup.config.delivery.flushSeconds * 1000),
  };
}

/** Text in an alert may quote what an agent wrote: secrets are taken out before it leaves. */
export function redactAlert(alert: Alert, redactor: Redactor): Alert {
  return {
    ...alert,
    title: redactor.redact(alert.title),
    summary: redactor.redact(alert.summary),
    details: redactor.redactValue(alert.details) as Alert['details'],
  };
}
