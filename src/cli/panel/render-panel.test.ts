import { describe, expect, it } from 'vitest';
import { PanelState } from './panel-state.ts';
import { renderPanel } from './render-panel.ts';
import { plainPaint } from './terminal-style.ts';

describe('renderPanel', () => {
  it('keeps every line narrower than the terminal and strips control characters from model text', () => {
    const state = new PanelState(0);
    state.start({ runId: 'run-1', parallel: 2, capUsd: 5, spentUsd: 0.5 });
    state.applyProgress({
      phase: 'development',
      queue: { pending: 1, inProgress: 3, completed: 0, failed: 0, deadLetter: 0, cancelled: 0, total: 4 },
      agents: ['a', 'b', 'c'].map((id, index) => ({
        worker: `run:run-1:42:w${index}`,
        taskId: id,
        type: 'eng-backend',
        title: `Title ${id} \u001b[2J${'x'.repeat(200)}`,
        since: 1000 * index,
      })),
      lastEventSequence: 10,
    });
    const lines = renderPanel(state.view(), { now: 65_000, columns: 40, rows: 7, paint: plainPaint });
    // The frame fits the terminal: never taller than its rows less one, never as wide as it.
    expect(lines.length).toBeLessThan(7);
    for (const line of lines) expect(line.length).toBeLessThan(40);
    expect(lines.join('\n')).not.toContain('\u001b');
    expect(lines[1]).toContain('development · 1m 05s');
    expect(lines.join('\n')).toContain('… and 3 more');
  });
});
