import { describe, expect, it } from 'vitest';
import { alertsOfEvent } from './alerts-of-event.ts';

const event = (type: string, data: unknown) => ({ type, runId: 'run-1', data, createdAt: 0 });

describe('alertsOfEvent', () => {
  it('alerts a rolled-back deploy as critical and resolves it when a release goes live', () => {
    const deployed = (status: string) =>
      event('release.deployed', { version: 'v3', target: 'local', status, reason: 'health check failed' });
    const [alert] = alertsOfEvent(deployed('rolled_back'), 'shop');
    expect(alert).toMatchObject({
      action: 'trigger',
      severity: 'critical',
      dedupKey: 'loki/run-1/deploy/local',
      title: 'Loki run run-1: deploy rolled back on local',
    });
    expect(alert?.summary).toContain('health check failed');
    expect(alertsOfEvent(deployed('failed'), 'shop').map((each) => each.severity)).toEqual(['error']);
    expect(alertsOfEvent(deployed('live'), 'shop')).toEqual([
      expect.objectContaining({ action: 'resolve', dedupKey: 'loki/run-1/deploy/local' }),
    ]);
    // `loki deploy` belongs to no run: the alert names the deploy, not a run without an id.
    const [outsideRun] = alertsOfEvent({ ...deployed('rolled_back'), runId: null }, 'shop');
    expect(outsideRun).toMatchObject({
      dedupKey: 'loki/deploy/local',
      title: 'Loki deploy rolled back on local',
    });
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
