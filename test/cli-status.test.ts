import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../src/workspace/index.ts';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { prepareRun, startLoki } from './support/run-harness.ts';

const files = (id: string) => ({ [`files/${id}.txt`]: `content of ${id}\n` });

describe('loki status after a crash', () => {
  it('shows a run whose process died as interrupted and suggests loki resume (text, --json, STATUS.txt)', async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(
      workspace,
      {
        tasks: [
          { id: 'alpha', files: files('alpha') },
          { id: 'beta', files: files('beta'), dependencies: ['alpha'] },
        ],
        // Slow enough that the run is still at work when it is killed.
        latencyMilliseconds: 400,
      },
      1,
    );
    const run = startLoki(workspace, ['run', 'prd.md', ...args]);
    await run.waitForOutput(/alpha started/);

    // While the run lives, it is running.
    const live = parseJsonOutput<StatusReport>(await loki(workspace, ['status', '--json']));
    expect(live.run?.status).toBe('running');
    expect(live.hint).toBeNull();

    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const text = await loki(workspace, ['status']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Run: +run-\S+ \(interrupted\)/);
    expect(text.stdout).toContain('loki resume');
    // The dead process's worker is not an active agent.
    expect(text.stdout).toMatch(/Agents: +0 active/);

    const json = parseJsonOutput<StatusReport>(await loki(workspace, ['status', '--json']));
    expect(json.run?.status).toBe('interrupted');
    expect(json.hint).toContain('loki resume');
    expect(json.agents.active).toBe(0);

    // Any command that rewrites the projections tells the same story in STATUS.txt.
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    const statusFile = readFileSync(join(workspace.root, '.loki', 'STATUS.txt'), 'utf8');
    expect(statusFile).toMatch(/Run: +run-\S+ \(interrupted\)/);
    expect(statusFile).toContain('loki resume');

    // The advice works: resume finishes the run, which is then no longer interrupted.
    const resumed = await loki(workspace, ['resume', ...args]);
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    const after = parseJsonOutput<StatusReport>(await loki(workspace, ['status', '--json']));
    expect(after.run?.status).toBe('completed');
    expect(after.hint).toBeNull();
  }, 120_000);
});
