import {
  runArchitecture,
  runDiscovery,
  writeArchitectureSpecs,
  writeRequirementsSpecs,
} from '../../planning/index.ts';
import { readValidArchitecture, readValidRequirements } from '../planned-tasks.ts';
import { recordProjectGates } from '../project-gates.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseVerdict, RunPhaseModule } from './run-phase-module.ts';

/** Discovery: the requirements, validated; kept from an earlier session when still valid. */
export const discoveryPhase: RunPhaseModule = {
  name: 'discovery',
  needs: ['prdText'],
  steps: [writeRequirements],
};

/** Architecture: the design and the task DAG, validated against the requirements; kept likewise. */
export const architecturePhase: RunPhaseModule = {
  name: 'architecture',
  needs: ['prdText', 'requirements'],
  steps: [writeArchitecture],
};

async function writeRequirements(context: RunContext): Promise<PhaseVerdict> {
  const { options, products } = context;
  const specsDirectory = context.workspace.paths.specsDirectory;
  const kept = readValidRequirements(specsDirectory);
  const requirements =
    kept ??
    (await runDiscovery({
      runSubmission: (spec, runOptions) => options.source.runSubmission('discovery', spec, runOptions),
      prdText: need(context, 'prdText'),
      emit: context.emit,
      runId: context.runId,
      ...context.planningAgent('discovery'),
      signal: options.signal,
    }));
  if (kept === null) writeRequirementsSpecs(specsDirectory, requirements);
  products.requirements = requirements;
  const count = requirements.requirements.length;
  return {
    outcome: 'passed',
    details: `${count} requirements ${kept === null ? 'written to' : 'kept from'} .loki/specs/`,
  };
}

async function writeArchitecture(context: RunContext): Promise<PhaseVerdict> {
  const { options, products } = context;
  const specsDirectory = context.workspace.paths.specsDirectory;
  const requirements = need(context, 'requirements');
  const kept = readValidArchitecture(specsDirectory, requirements);
  const architecture =
    kept ??
    (await runArchitecture({
      runSubmission: (spec, runOptions) => options.source.runSubmission('architecture', spec, runOptions),
      prdText: need(context, 'prdText'),
      requirements,
      emit: context.emit,
      runId: context.runId,
      ...context.planningAgent('architecture'),
      signal: options.signal,
    }));
  if (kept === null) writeArchitectureSpecs(specsDirectory, architecture);
  products.architecture = architecture;
  // In the store before any task is planned: a worker elsewhere that claims one verifies it with them.
  await options.flush?.();
  await recordProjectGates(context.workspace.store, context.runId, architecture.verifyCommands);
  const count = architecture.tasks.length;
  return {
    outcome: 'passed',
    details:
      kept === null ? `${count} tasks planned; specs written` : `${count} tasks kept from .loki/specs/`,
  };
}
