export { bootstrapPhase } from './bootstrap-phase.ts';
export { checkCompletion } from './completion-check.ts';
export {
  businessPhase,
  deploymentPhase,
  developmentPhase,
  growthPhase,
  infrastructurePhase,
  qaPhase,
} from './delivery-phases.ts';
export { architecturePhase, discoveryPhase } from './planning-phases.ts';
export { createRunContext, type RunContext, type RunProducts } from './run-context.ts';
export type { PhaseStep, PhaseVerdict, RunEnding, RunPhaseModule } from './run-phase-module.ts';
export { RUN_PHASE_MODULES } from './run-phase-modules.ts';
