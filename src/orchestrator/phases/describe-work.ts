import type { Task } from '../../store/index.ts';
import type { MainVerification } from '../verify-main.ts';

/** "3 task(s) merged, 1 cancelled": a delivery phase's planned tasks, in one line. */
export function describeMerged(phaseTasks: readonly Task[]): string {
  const cancelled = phaseTasks.filter((task) => task.status === 'cancelled').length;
  const merged = `${phaseTasks.length - cancelled} task(s) merged`;
  return cancelled === 0 ? merged : `${merged}, ${cancelled} cancelled`;
}

/** The gates (with their test counts) and the health check of a verification of main, in one line. */
export function describeVerification(verification: MainVerification | null): string {
  if (verification === null) return 'main not verified';
  const gates = verification.gates
    .map((gate) => {
      const counts = gate.tests === null ? '' : ` ${gate.tests.passed} passed/${gate.tests.failed} failed`;
      return `\`${gate.command}\` ${gate.passed ? 'passed' : `failed (exit ${gate.exitCode ?? '?'})`}${counts}`;
    })
    .join(', ');
  const health =
    verification.health === null
      ? ''
      : `; GET ${verification.health.healthPath} → ${verification.health.statusCode ?? 'no answer'}`;
  return `${gates}${health}`;
}
