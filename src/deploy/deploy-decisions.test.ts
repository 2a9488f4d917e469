import { describe, expect, it } from 'vitest';
import type { LokiEvent, NewEvent } from '../events/index.ts';
import { DEFAULT_CANARY_THRESHOLDS, judge } from './local/canary.ts';
import { foldReleases, nextVersion } from './release-history.ts';
import { smokePathsFromOpenApi } from './smoke-paths.ts';

let sequence = 0;
function stored(event: Omit<NewEvent, 'runId' | 'taskId'>): LokiEvent {
  sequence += 1;
  return { ...event, runId: null, taskId: null, sequence, createdAt: sequence * 1000 } as LokiEvent;
}
function built(version: string): LokiEvent {
  return stored({
    type: 'release.built',
    data: {
      version,
      commit: `c${version}`,
      target: 'local',
      directory: `/r/${version}`,
      startCommand: 'node s.js',
      healthPath: '/health',
      buildCommand: null,
    },
  });
}
function deployed(version: string, status: 'live' | 'rolled_back' | 'failed'): LokiEvent {
  return stored({
    type: 'release.deployed',
    data: {
      version,
      target: 'local',
      strategy: 'blue-green',
      status,
      url: 'http://127.0.0.1:1',
      reason: status === 'live' ? null : 'health failed',
      checks: [],
      canarySteps: [],
    },
  });
}

describe('the release history', () => {
  it('is the fold of the release events: live, superseded, rolled back, stopped', () => {
    const events = [
      built('v1'),
      deployed('v1', 'live'),
      built('v2'),
      deployed('v2', 'live'),
      built('v3'),
      deployed('v3', 'rolled_back'),
      stored({
        type: 'release.rolled_back',
        data: {
          target: 'local',
          fromVersion: 'v2',
          toVersion: 'v1',
          url: 'http://127.0.0.1:1',
          wasWarm: true,
        },
      }),
    ];
    const releases = foldReleases(events);
    expect(releases.map((release) => `${release.version}:${release.status}`)).toEqual([
      'v1:live',
      'v2:rolled_back',
      'v3:rolled_back',
    ]);
    expect(releases[2]?.reason).toBe('health failed');
    expect(nextVersion(releases)).toBe('v4');
    const afterStop = foldReleases([
      ...events,
      stored({ type: 'deployment.stopped', data: { target: 'local', version: 'v1' } }),
    ]);
    expect(afterStop[0]?.status).toBe('stopped');
    expect(nextVersion([])).toBe('v1');
  });
});

function rolledBack(fromVersion: string, toVersion: string): LokiEvent {
  return stored({
    type: 'release.rolled_back',
    data: { target: 'local', fromVersion, toVersion, url: 'http://127.0.0.1:1', wasWarm: true },
  });
}

describe('a roll forward with loki rollback --to', () => {
  it('leaves the release it switched away from healthy: a plain rollback can go back to it', () => {
    const releases = foldReleases([
      built('v1'),
      deployed('v1', 'live'),
      built('v2'),
      deployed('v2', 'live'),
      rolledBack('v2', 'v1'),
      // Forward again, to the newer release: v1 did nothing wrong.
      rolledBack('v1', 'v2'),
    ]);
    expect(releases.map((release) => `${release.version}:${release.status}`)).toEqual([
      'v1:superseded',
      'v2:live',
    ]);
  });
});

describe('smoke paths from the OpenAPI document', () => {
  it('are the GET paths that need no parameter', () => {
    const document = `openapi: 3.0.3
paths:
  /health: { get: {} }
  /todos: { get: {}, post: {} }
  /todos/{id}: { get: {} }
  /search: { get: { parameters: [{ name: q, in: query, required: true }] } }
  /feed: { get: { parameters: [{ name: page, in: query, required: false }] } }
  /login: { post: {} }
`;
    expect(smokePathsFromOpenApi(document)).toEqual(['/health', '/todos', '/feed']);
    expect(() => smokePathsFromOpenApi('paths: [')).toThrow(/does not parse/);
  });
});

describe('the canary judgement', () => {
  const baseline = { requests: 200, errors: 1, medianLatencyMilliseconds: 2 };
  it('passes a canary within the thresholds and names what is over them', () => {
    expect(
      judge({ requests: 20, errors: 1, medianLatencyMilliseconds: 3 }, baseline, DEFAULT_CANARY_THRESHOLDS),
    ).toBeNull();
    expect(
      judge({ requests: 20, errors: 10, medianLatencyMilliseconds: 3 }, baseline, DEFAULT_CANARY_THRESHOLDS),
    ).toMatch(/error rate 50\.0 % against 0\.5 %/);
    expect(
      judge({ requests: 20, errors: 0, medianLatencyMilliseconds: 500 }, baseline, DEFAULT_CANARY_THRESHOLDS),
    ).toMatch(/median latency 500\.0 ms/);
    expect(
      judge({ requests: 3, errors: 0, medianLatencyMilliseconds: 1 }, baseline, DEFAULT_CANARY_THRESHOLDS),
    ).toMatch(/only 3 request/);
  });
});
