/**
 * A run's task workers hold their tasks on a lease of `leaseSeconds`, renewed by heartbeats, not
 * on the task's timeout (an hour by default): a worker that dies gives its tasks back within the
 * lease, which is what lets another machine finish them.
 */
import { describe, expect, it } from 'vitest';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, readEvents } from './support/run-harness.ts';

describe('the lease of a claimed task', () => {
  it('is leaseSeconds long from the claim, whatever the task timeout', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, { tasks: [{ id: 'one', files: { 'one.txt': 'one\n' } }] }, 1);
    const result = await loki(workspace, ['-c', 'leaseSeconds=30', 'run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const claims = readEvents(result.stdout).filter((event) => event.type === 'task.claimed');
    expect(claims.length).toBeGreaterThan(0);
    for (const claim of claims) {
      if (claim.type !== 'task.claimed') continue;
      // The store stamps the event and computes the lease from the same reading of its clock.
      expect(claim.data.leaseExpiresAt - claim.createdAt).toBe(30_000);
    }
  }, 60_000);
});
