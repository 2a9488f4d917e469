import { describe, expect, it } from 'vitest';
import { createLiveAppGates } from './live-app-gates.ts';

const config = (deployment: string[], nonBlocking: string[] = []) => ({
  stages: { merge: [], qa: [], deployment },
  nonBlocking,
  thresholds: {},
});

describe('createLiveAppGates', () => {
  it("runs the deployment stage's blocking app gates, and only those", () => {
    const paths = { healthPath: '/health', smokePaths: ['/items'] };
    expect(
      createLiveAppGates({ config: config(['unit-tests', 'performance', 'accessibility']), ...paths }),
    ).toHaveLength(2);
    expect(createLiveAppGates({ config: config(['unit-tests', 'lint']), ...paths })).toEqual([]);
    // A non-blocking gate is reported at QA; it never rolls a release back, so it is not run here.
    expect(
      createLiveAppGates({ config: config(['performance', 'accessibility'], ['performance']), ...paths }),
    ).toHaveLength(1);
  });

  it('says not proven, with the reason, when a gate cannot measure the release', async () => {
    const [accessibility] = createLiveAppGates({
      config: config(['accessibility']),
      healthPath: '/health',
      smokePaths: [],
      accessibility: { chromiumPath: '/nonexistent/chromium' },
    });
    const checks = await accessibility?.('http://127.0.0.1:9', new AbortController().signal);
    expect(checks).toEqual([
      {
        name: 'accessibility',
        verdict: 'not-proven',
        detail: expect.stringMatching(/^tool missing: no Chromium/),
      },
    ]);
  });
});
