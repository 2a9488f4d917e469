import { bootstrapPhase } from './bootstrap-phase.ts';
import {
  businessPhase,
  deploymentPhase,
  developmentPhase,
  growthPhase,
  infrastructurePhase,
  qaPhase,
} from './delivery-phases.ts';
import { architecturePhase, discoveryPhase } from './planning-phases.ts';
import type { RunPhaseModule } from './run-phase-module.ts';

/** The phases of `loki run`, in order (DESIGN.md §2; the same order as RUN_PHASES). */
export const RUN_PHASE_MODULES: readonly RunPhaseModule[] = [
  bootstrapPhase,
  discoveryPhase,
  architecturePhase,
  infrastructurePhase,
  developmentPhase,
  qaPhase,
  deploymentPhase,
  businessPhase,
  growthPhase,
];
