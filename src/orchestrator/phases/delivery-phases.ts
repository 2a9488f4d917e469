import type { DeliveryPhase } from '../../planning/index.ts';
import { deployReleaseStep } from './deploy-release-step.ts';
import { runGrowthIterations } from './growth-iterations-step.ts';
import { runPlannedTasks } from './planned-tasks-step.ts';
import type { PhaseStep, RunPhaseModule } from './run-phase-module.ts';
import { verifiedMainStep } from './verified-main-step.ts';

/** A delivery phase: its planned tasks merged, then the steps that are the phase's own. */
function deliveryPhase(name: DeliveryPhase, ownSteps: readonly PhaseStep[] = []): RunPhaseModule {
  return { name, needs: ['architecture'], steps: [runPlannedTasks, ...ownSteps] };
}

export const infrastructurePhase = deliveryPhase('infrastructure');
export const developmentPhase = deliveryPhase('development');
/** QA: the project's gates pass on main. */
export const qaPhase = deliveryPhase('qa', [verifiedMainStep('qa')]);
/**
 * Deployment: the product also boots on main and answers its health path; then main becomes a
 * release served locally (unless --no-deploy).
 */
export const deploymentPhase = deliveryPhase('deployment', [
  verifiedMainStep('deployment'),
  deployReleaseStep,
]);
export const businessPhase = deliveryPhase('business');
/** Growth (with --perpetual): improvement iterations until stopped, out of budget or out of ideas. */
export const growthPhase: RunPhaseModule = {
  ...deliveryPhase('growth', [runGrowthIterations]),
  needs: ['prdText', 'requirements', 'architecture'],
  isPartOfRun: (context) => context.options.perpetual,
};
