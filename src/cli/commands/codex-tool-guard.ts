import { appendFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.ts';

/**
 * `loki codex-tool-guard`: the PreToolUse hook Loki gives a Codex task agent (never run by hand,
 * so hidden from the help). Codex writes the tool call as JSON on stdin; a refused call is
 * recorded in the refusals file, for the run's events, and denied on stdout. It fails closed: when
 * it cannot decide, it exits 2, which Codex treats as a denial with stderr as the reason.
 */
export function registerCodexToolGuardCommand(program: Command, context: CliContext): void {
  program
    .command('codex-tool-guard', { hidden: true })
    .description("judge one of Codex's tool calls for Loki (its PreToolUse hook)")
    .requiredOption('--worktree <path>', "the task's worktree: patches may write only inside it")
    .requiredOption('--refusals <file>', 'where each refusal is recorded, one JSON object a line')
    .option('--no-commands', 'refuse every shell command (the role has no run_command)')
    .action(async (options: { worktree: string; refusals: string; commands: boolean }) => {
      try {
        const { codexHookDenial } = await import('../../providers/cli/codex-tool-refusals.ts');
        const { judgeCodexToolCall } = await import('../../runtime/codex-tool-guard.ts');
        const payload: unknown = JSON.parse(await text(process.stdin));
        const refusal = await judgeCodexToolCall(payload, {
          worktree: options.worktree,
          commands: options.commands,
        });
        if (refusal === null) return;
        await appendFile(options.refusals, `${JSON.stringify(refusal)}\n`);
        context.stdout(`${codexHookDenial(refusal)}\n`);
      } catch (error) {
        context.stderr(
          `Loki could not check this tool call, so it is refused: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        context.exitCode = 2;
      }
    });
}
