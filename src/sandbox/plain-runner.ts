import type { CommandRequest, CommandResult, CommandRunner } from './command-runner.ts';
import { DEFAULT_PROCESS_TIMING, type ProcessTiming, runProcessGroup } from './run-process-group.ts';

/**
 * Runs commands without isolation: the command can read and write anything the Loki process can,
 * and reach the network. Used when bubblewrap is missing or does not work; `loki doctor` says so.
 * What it still guarantees: an explicit environment, a timeout, and no surviving processes.
 */
export class PlainRunner implements CommandRunner {
  readonly kind = 'plain';
  readonly #timing: ProcessTiming;

  constructor(options: { timing?: ProcessTiming } = {}) {
    this.#timing = options.timing ?? DEFAULT_PROCESS_TIMING;
  }

  run(request: CommandRequest): Promise<CommandResult> {
    return runProcessGroup(
      { executable: '/bin/sh', arguments: ['-c', request.command], launchDirectory: request.cwd },
      request,
      this.#timing,
    );
  }
}
