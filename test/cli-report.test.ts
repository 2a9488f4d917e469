import { describe, expect, it } from 'vitest';
import { loki, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun } from './support/run-harness.ts';

describe('loki report', () => {
  it('prints the latest run’s report (Markdown, or JSON with --json) and names a missing one', async () => {
    using workspace = new TempWorkspace();
    const before = await loki(workspace, ['report']);
    expect(before.exitCode).toBe(2);
    expect(before.stderr).toMatch(/no Loki workspace .*loki run <prd>/);

    const args = prepareRun(workspace, {
      tasks: [{ id: 'alpha', files: { 'files/alpha.txt': 'alpha\n' } }],
      verifyCommands: ['test -f files/alpha.txt'],
    });
    const run = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { runId: string };

    const markdown = await loki(workspace, ['report']);
    expect(markdown.exitCode, markdown.stderr).toBe(0);
    expect(markdown.stdout).toContain(`# Loki Mode run ${outcome.runId}`);
    const json = await loki(workspace, ['report', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: outcome.runId, status: 'completed', exitCode: 0 });
    const other = await loki(workspace, ['report', '--run', 'run-nonexistent']);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toMatch(/run run-nonexistent has no report yet/);
  });
});
