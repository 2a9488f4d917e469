import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSession, type SessionSpec } from '../src/bench/generated-session.ts';
import { ERASE_DOWN, HIDE_CURSOR, SHOW_CURSOR } from '../src/cli/panel/index.ts';
import { TempWorkspace } from './support/cli-harness.ts';
import { startInTerminal } from './support/pseudo-terminal.ts';
import { prepareRun, startLoki } from './support/run-harness.ts';

/** A title as a hostile planner might write it: retitle the window, clear the screen. */
const HOSTILE_TITLE = 'Write alpha \u001b]0;pwned\u0007\u001b[2J';
const REDRAW = /\r\u001b\[\d+A\u001b\[J/g;
const COLOUR = /\u001b\[[0-9;]*m/;

/** A run of three tasks whose first is titled by a hostile planner; returns loki run's arguments. */
function prepareHostileRun(workspace: TempWorkspace, latencyMilliseconds: number): string[] {
  const spec: SessionSpec = {
    tasks: ['alpha', 'beta', 'gamma'].map((id) => ({ id, files: { [`files/${id}.txt`]: `${id}\n` } })),
    latencyMilliseconds,
  };
  const args = prepareRun(workspace, spec);
  const session = buildSession(spec) as unknown as {
    architecture: [{ toolCalls: [{ input: { tasks: { title: string }[] } }] }];
  };
  const planned = session.architecture[0].toolCalls[0].input.tasks[0];
  if (planned !== undefined) planned.title = HOSTILE_TITLE;
  writeFileSync(join(workspace.root, 'session.json'), JSON.stringify(session));
  return ['run', 'prd.md', ...args, '--no-dashboard'];
}

/** What the terminal shows after the panel's last redraw: whole lines, and the cursor shown. */
function afterLastRedraw(output: string): string {
  const redraws = [...output.matchAll(REDRAW)];
  const last = redraws.at(-1);
  return last === undefined ? output : output.slice((last.index ?? 0) + last[0].length);
}

describe('the terminal panel', () => {
  it('on a terminal, loki run redraws its panel in place, sanitises model text and ends clean; status --watch too', async () => {
    using workspace = new TempWorkspace('loki-panel-test-');
    const args = prepareHostileRun(workspace, 20);
    const run = await startInTerminal(workspace, args).done;
    expect(run.exitCode, run.output).toBe(0);
    const { output } = run;
    expect(output).toContain(HIDE_CURSOR);
    expect(output.match(REDRAW)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(output).toMatch(/Loki run-\S+ · \w+ · \d+s · spent \$0\.0000/);
    expect(output).toMatch(/Queue: \d+ pending · \d+ in progress · \d+ completed/);
    expect(output).toMatch(COLOUR);
    // Model-written text never reaches the terminal as control sequences.
    expect(output).not.toContain('\u001b]0;pwned');
    expect(output).not.toContain('\u001b[2J');
    // Clean end: the cursor is shown after the last frame, no frame is drawn after it, the plain
    // outcome follows.
    const end = afterLastRedraw(output);
    expect(output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(output.lastIndexOf(HIDE_CURSOR));
    expect(end).toContain(SHOW_CURSOR);
    expect(end.slice(end.indexOf(SHOW_CURSOR))).toContain('Completed (exit 0)');
    expect(end).not.toContain(ERASE_DOWN);
    // The projections are unchanged by the panel: watch -n 2 cat .loki/STATUS.txt shows plain text.
    const statusText = readFileSync(join(workspace.root, '.loki', 'STATUS.txt'), 'utf8');
    expect(statusText).toMatch(/^Loki Mode status\n/);
    expect(statusText).toContain('Completed:    3');
    expect(statusText).not.toContain('\u001b');

    const watch = startInTerminal(workspace, ['status', '--watch', '--interval', '1'], {
      env: { NO_COLOR: '1' },
    });
    // A second frame replaced the first in place; then Ctrl-C ends the watch with exit 0.
    await watch.waitForOutput(/\r\u001b\[\d+A\u001b\[JLoki Mode status/);
    watch.type('\u0003');
    const watched = await watch.done;
    expect(watched.exitCode, watched.output).toBe(0);
    const lastFrame = afterLastRedraw(watched.output);
    expect(lastFrame).toContain('Completed:    3');
    expect(lastFrame).not.toContain('Ctrl-C ends');
    expect(watched.output.endsWith(SHOW_CURSOR)).toBe(true);
    expect(watched.output).not.toMatch(COLOUR);
  });

  it('Ctrl-C during a run: the panel showed the agents at work, the run stops and the terminal is left clean (NO_COLOR: no colour)', async () => {
    using workspace = new TempWorkspace('loki-panel-test-');
    // Slow agents: the run is still working when Ctrl-C comes.
    const args = prepareHostileRun(workspace, 3000);
    const session = startInTerminal(workspace, args, { env: { NO_COLOR: '1' } });
    // An agent row: worker, elapsed time, task id, its title with the control characters replaced.
    await session.waitForOutput(/ w\d+ +\d+s {2}alpha {2}Write alpha �\]0;pwned��\[2J/);
    session.type('\u0003');
    const { exitCode, output } = await session.done;
    expect(output).toContain('Stopping: agents are signalled');
    expect(output).toMatch(/Ended: stopped \(exit \d+\)/);
    expect(exitCode, output).not.toBe(0);
    expect(output).not.toMatch(COLOUR);
    const end = afterLastRedraw(output);
    expect(end).toContain(SHOW_CURSOR);
    expect(output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(output.lastIndexOf(HIDE_CURSOR));
    expect(end).not.toContain(ERASE_DOWN);
  });

  it('without a terminal, loki run prints the plain lines: no panel, no escape sequences', async () => {
    using workspace = new TempWorkspace('loki-panel-test-');
    const args = prepareHostileRun(workspace, 0);
    const result = await startLoki(workspace, args).done;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('▶ development');
    expect(result.stdout).toContain('Completed (exit 0)');
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).not.toContain('Queue: ');
  });
});
