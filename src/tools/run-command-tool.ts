import { z } from 'zod';
import { assertCommandAllowed, createCommandPolicy } from '../sandbox/index.ts';
import { formatCommandResult } from './format-command-result.ts';
import { runSandboxedCommand } from './run-sandboxed-command.ts';
import { defineTool } from './tool.ts';

const DEFAULT_POLICY = createCommandPolicy();

const inputSchema = z.strictObject({
  command: z.string().min(1).describe('Shell command, run with /bin/sh -c in the worktree root.'),
  timeout_seconds: z
    .number()
    .positive()
    .optional()
    .describe('Stop the command after this many seconds (capped at the task limit).'),
});

export const runCommandTool = defineTool({
  name: 'run_command',
  description:
    'Run a shell command in the worktree root (e.g. `npm test`, `ls src`). Non-interactive: stdin is closed. ' +
    'The command and everything it starts are killed at the timeout. Dangerous commands (rm -rf /, force pushes, ' +
    'writes outside the worktree) are refused. The network may be disabled.',
  inputSchema,
  async execute(input, context) {
    assertCommandAllowed(context.commandPolicy ?? DEFAULT_POLICY, input.command, {
      workspace: context.worktree,
    });
    const maxMilliseconds = context.commandTimeoutMilliseconds;
    const requestedMilliseconds =
      input.timeout_seconds === undefined ? maxMilliseconds : input.timeout_seconds * 1000;
    const timeoutMilliseconds = Math.min(requestedMilliseconds, maxMilliseconds);
    const capNote =
      requestedMilliseconds > maxMilliseconds
        ? `(timeout capped at the task limit of ${maxMilliseconds / 1000} s)\n`
        : '';
    const result = await runSandboxedCommand(input.command, context, { timeoutMilliseconds });
    if (result.timedOut) {
      const detail = `command exceeded its ${timeoutMilliseconds / 1000} s timeout and was killed with every process it started`;
      return {
        output: `${capNote}Timed out: the ${detail}. Run long tasks with a smaller scope, or pass a larger timeout_seconds.\n${formatCommandResult(result)}`,
        isError: true,
        refusal: { reason: 'timeout', detail: `${detail}: ${input.command}` },
      };
    }
    return { output: capNote + formatCommandResult(result) };
  },
});
