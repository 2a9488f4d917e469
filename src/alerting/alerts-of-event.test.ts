import { describe, expect, it } from 'vitest';
import { alertsOfEvent } from './alerts-of-event.ts';

const event = (type: string, data: unknown) => ({ type, runId: 'run-1', data, createdAt: 0 });

describe('alertsOfEvent', () => {
  it('alerts a deploy rollback by name, critical, though the event is not in the union yet', () => {
    const [alert] = alertsOfEvent(
      event('deploy.rolled_back', { target: 'fly', detail: 'health check failed' }),
      'shop',
    );
    expect(alert).toMatchObject({
      action: 'trigger',
      severity: 'critical',
      dedupKey: 'loki/run-1/deploy',
      title: 'Loki run run-1: deploy rolled back on fly',
    });
    expect(alert?.summary).toContain('health check failed');
  });

  it('maps each end of a run to its severity and leaves a stop the user asked for alone', () => {
    const severityOf = (outcome: string) =>
      alertsOfEvent(event('run.ended', { outcome, exitCode: 0 }), 'shop').map(
        (alert) => `${alert.action}:${alert.severity}`,
      );
    expect(severityOf('blocked')).toEqual(['trigger:error']);
    expect(severityOf('stalled')).toEqual(['trigger:error']);
    expect(severityOf('budget')).toEqual(['trigger:warning']);
    expect(severityOf('completed')).toEqual(['trigger:info', 'resolve:info']);
    expect(severityOf('stopped')).toEqual([]);
    expect(severityOf('not_verified')).toEqual([]);
  });

  it('gives no alert, and no exception, for data of an unexpected shape', () => {
    expect(alertsOfEvent(event('run.ended', null), 'shop')).toEqual([]);
    expect(alertsOfEvent(event('breaker.changed', 'open'), 'shop')).toEqual([]);
    expect(
      alertsOfEvent(event('breaker.changed', { state: 'half_open', breaker: 'provider:x' }), 'shop'),
    ).toEqual([]);
  });
});
