import { ExitCode } from '../../errors/index.ts';
import { DEFAULT_MAIN_FIX_ROUNDS, verifyMainWithFixRounds } from '../main-fix-rounds.ts';
import { describeVerification } from './describe-work.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseStep, PhaseVerdict } from './run-phase-module.ts';
import { interruptedVerdict } from './scheduler-verdict.ts';

/**
 * Exit criterion of QA (the project's gates pass on main) and of Deployment (the product also
 * boots and answers its health path), verified by the harness. A red main becomes fix work first,
 * for a bounded number of rounds; still red, the run ends not verified.
 */
export function verifiedMainStep(phase: 'qa' | 'deployment'): PhaseStep {
  return async (context: RunContext): Promise<PhaseVerdict> => {
    const { options } = context;
    const checked = await verifyMainWithFixRounds({
      phase,
      workspace: context.workspace,
      runId: context.runId,
      maxRounds: options.maxMainFixRounds ?? DEFAULT_MAIN_FIX_ROUNDS,
      maxTaskAttempts: options.maxTaskAttempts ?? 3,
      gates: need(context, 'architecture').verifyCommands,
      verify: () => context.verifyMain(phase === 'deployment'),
      runScheduler: () => context.runTasks(),
    });
    if (checked.outcome === 'interrupted') return interruptedVerdict(checked.result, phase);
    context.products.mainVerification = checked.verification;
    const details = describeVerification(checked.verification);
    if (checked.outcome === 'verified') return { outcome: 'passed', details };
    const what = phase === 'qa' ? 'gates' : 'health check';
    return {
      outcome: 'failed',
      details,
      ending: {
        outcome: 'not_verified',
        exitCode: ExitCode.notVerified,
        summary: `main does not pass its ${what} after ${checked.rounds} fix round(s): ${details}`,
      },
    };
  };
}
