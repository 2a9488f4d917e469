import type { EmitRuntimeEvent } from './bind-event-emitter.ts';
import type { CliRuntimeOptions } from './cli-runtime-options.ts';
import { type LineProcessExit, runLineProcess } from './run-line-process.ts';

/** Processes that outlived SIGKILL cannot be fixed here, but they must not go unnoticed. */
export function reportSurvivingProcesses(
  exit: Pick<LineProcessExit, 'survivorPids'>,
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

/**
 * One run of an agent CLI in the worktree, the same way for every CLI: wrapped when asked (e.g. in
 * bubblewrap, so the CLI's own tools are confined too), each output line to `onLine`, survivors
 * reported; a stopped run throws the signal's reason.
 */
export async function runAgentCliProcess(options: {
  runtime: Pick<CliRuntimeOptions, 'worktree' | 'wrapInvocation' | 'processStopTiming'>;
  executable: string;
  commandArguments: string[];
  env: Readonly<Record<string, string>>;
  onLine: (line: string) => void;
  signal: AbortSignal;
  emit: EmitRuntimeEvent;
  codePrefix: string;
}): Promise<LineProcessExit> {
  const { runtime, executable, commandArguments } = options;
  const invocation = runtime.wrapInvocation?.({ executable, arguments: commandArguments }) ?? {
    executable,
    arguments: commandArguments,
  };
  const exit = await runLineProcess({
    executable: invocation.executable,
    arguments: invocation.arguments,
    cwd: runtime.worktree,
    env: options.env,
    onLine: options.onLine,
    signal: options.signal,
    ...(runtime.processStopTiming === undefined ? {} : { timing: runtime.processStopTiming }),
  });
  reportSurvivingProcesses(exit, options.emit, options.codePrefix);
  if (exit.wasStopped) throw options.signal.reason;
  return exit;
}
