import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import type { LineProcessExit } from './run-line-process.ts';

/** Processes that outlived SIGKILL cannot be fixed here, but they must not go unnoticed. */
export function reportSurvivingProcesses(
  exit: LineProcessExit,
  emit: EmitRuntimeEvent,
  codePrefix: string,
): void {
  if (exit.survivorPids.length === 0) return;
  emit('agent.error', {
    code: `${codePrefix}_PROCESSES_SURVIVED`,
    category: 'internal',
    message: `processes the agent CLI started survived SIGKILL: ${exit.survivorPids.join(', ')}`,
  });
}
