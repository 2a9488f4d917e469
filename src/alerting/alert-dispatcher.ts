import { setTimeout as delay } from 'node:timers/promises';
import type { Redactor } from '../sandbox/index.ts';
import type { Alert } from './alert.ts';
import type { AlertChannel } from './alert-channel.ts';
import { deliverAlert, type DeliveryPolicy } from './deliver-alert.ts';

export interface AlertDispatcherOptions {
  channels: readonly AlertChannel[];
  policy: DeliveryPolicy;
  /** Most deliveries waiting or under way at once; beyond it a new alert is dropped (and counted). */
  queueSize: number;
  /** Redacts every line before `log` sees it: channel URLs and keys are secrets. */
  redactor: Redactor;
  log: (text: string) => void;
}

export interface AlertDeliveryStats {
  delivered: number;
  dropped: number;
}

/** Deliveries under way at once; more wait their turn in the queue. */
const CONCURRENT_DELIVERIES = 4;

/**
 * Alert delivery off the run's path. `enqueue` returns at once and never throws; deliveries run in
 * the background with retries; `close` gives the ones still under way a bounded grace, then stops
 * them and counts them dropped. INVARIANT: nothing here can fail or block the run that feeds it.
 */
export class AlertDispatcher {
  readonly #options: AlertDispatcherOptions;
  readonly #stop = new AbortController();
  readonly #waiting: (() => Promise<void>)[] = [];
  readonly #running = new Set<Promise<void>>();
  #delivered = 0;
  #dropped = 0;
  #isClosed = false;

  constructor(options: AlertDispatcherOptions) {
    this.#options = options;
  }

  get stats(): AlertDeliveryStats {
    return { delivered: this.#delivered, dropped: this.#dropped };
  }

  enqueue(alert: Alert): void {
    for (const channel of this.#options.channels) {
      if (!channel.accepts(alert)) continue;
      if (this.#isClosed || this.#waiting.length + this.#running.size >= this.#options.queueSize) {
        this.#drop(channel, alert, this.#isClosed ? 'alerting already closed' : 'the alert queue is full');
        continue;
      }
      this.#waiting.push(() => this.#deliver(channel, alert));
    }
    this.#pump();
  }

  /** Waits up to `graceMilliseconds` for deliveries still queued or under way, then drops the rest. */
  async close(graceMilliseconds: number): Promise<AlertDeliveryStats> {
    this.#isClosed = true;
    const grace = new AbortController();
    await Promise.race([
      this.#idle(),
      delay(graceMilliseconds, undefined, { signal: grace.signal }).catch(() => undefined),
    ]);
    grace.abort();
    const left = this.#waiting.length;
    this.#waiting.length = 0;
    this.#dropped += left;
    this.#stop.abort();
    // Aborted deliveries end at once (their fetch and backoff wait on the same signal).
    await Promise.all(this.#running);
    if (this.#dropped > 0)
      this.#log(
        `${this.#dropped} alert(s) could not be delivered and were dropped (${this.#delivered} delivered)`,
      );
    return this.stats;
  }

  async #idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
  }

  #pump(): void {
    while (this.#running.size < CONCURRENT_DELIVERIES) {
      const next = this.#waiting.shift();
      if (next === undefined) return;
      const running: Promise<void> = next().finally(() => {
        this.#running.delete(running);
        this.#pump();
      });
      this.#running.add(running);
    }
  }

  async #deliver(channel: AlertChannel, alert: Alert): Promise<void> {
    const result = await deliverAlert(channel, alert, this.#options.policy, this.#stop.signal);
    if (result.isDelivered) this.#delivered += 1;
    else this.#drop(channel, alert, `${result.reason} after ${result.attempts} attempt(s)`);
  }

  #drop(channel: AlertChannel, alert: Alert, reason: string): void {
    this.#dropped += 1;
    this.#log(`alert "${alert.title}" to ${channel.name} (${channel.kind}) dropped: ${reason}`);
  }

  #log(text: string): void {
    try {
      this.#options.log(this.#options.redactor.redact(text));
    } catch {
      // A broken log sink (a closed terminal) must not turn into a failed run; the count stays.
    }
  }
}
