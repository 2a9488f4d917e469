import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../errors/index.ts';
import { RUN_PHASES } from '../../planning/index.ts';
import type { Task } from '../../store/index.ts';
import { RUN_PHASE_MODULES } from './run-phase-modules.ts';
import type { RunProducts } from './run-context.ts';
import { schedulerVerdict } from './scheduler-verdict.ts';

describe('the phase modules of loki run', () => {
  it('are the run phases, in order', () => {
    expect(RUN_PHASE_MODULES.map((phase) => phase.name)).toEqual([...RUN_PHASES]);
  });

  it('need only what an earlier phase produces', () => {
    const producedBy: Record<keyof RunProducts, string> = {
      prdText: 'bootstrap',
      requirements: 'discovery',
      architecture: 'architecture',
      mainVerification: 'qa',
      deployment: 'deployment',
    };
    for (const [index, phase] of RUN_PHASE_MODULES.entries()) {
      for (const product of phase.needs) {
        const producer = RUN_PHASE_MODULES.findIndex((candidate) => candidate.name === producedBy[product]);
        expect(producer, `${phase.name} needs ${product}`).toBeLessThan(index);
      }
    }
  });
});

describe('schedulerVerdict', () => {
  const task = (id: string, lastError: string | null = null) => ({ id, lastError }) as Task;

  it('lets the phase go on when the scheduler is done, and ends the run otherwise', () => {
    expect(schedulerVerdict({ outcome: 'done' }, 'development')).toBeNull();
    expect(schedulerVerdict({ outcome: 'budget' }, 'qa')).toEqual({
      outcome: 'stopped',
      details: 'budget cap reached',
      ending: {
        outcome: 'budget',
        exitCode: ExitCode.budgetStop,
        summary: 'the budget cap was reached during qa; no new work was started',
      },
    });
    expect(
      schedulerVerdict({ outcome: 'blocked', deadLettered: [task('a', 'red')], waiting: [] }, 'development'),
    ).toMatchObject({ outcome: 'failed', details: 'dead-lettered: a (red)', ending: { outcome: 'blocked' } });
    expect(schedulerVerdict({ outcome: 'stalled', waiting: [task('b')] }, 'business')).toMatchObject({
      outcome: 'failed',
      ending: { outcome: 'stalled', exitCode: ExitCode.stalled },
    });
    const error = new Error('bad key');
    expect(schedulerVerdict({ outcome: 'fatal', error }, 'development')).toEqual({
      outcome: 'failed',
      details: 'bad key',
      error,
    });
  });
});
