import type { Command } from 'commander';
import { ExitCode } from '../../errors/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';

export function registerDoctorCommand(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description('check that this machine has what Loki needs (exit 1 if a required check fails)')
    .option(
      '--json',
      'print {"ok": boolean, "checks": [{"name", "isRequired", "status": "ok"|"missing"|"warning", "detail", "fix"?}]}',
    )
    .addHelpText(
      'after',
      [
        '',
        'Required: node >= 22.13, git. Optional: bwrap (agent sandbox), chromium (dashboard tests),',
        'ANTHROPIC_API_KEY / OPENAI_API_KEY / OPENAI_BASE_URL (presence only; values are never printed),',
        'the claude and codex agent CLIs. In a workspace, also its store (required): SQLite integrity',
        'check and the newest backup in .loki/artifacts/backups/ (the fix says how to restore it).',
        'Sandbox network: the policy in force (sandbox.network, sandbox.allowedHosts) and its runner.',
        'Exit code 0 when every required check passes, 1 otherwise.',
      ].join('\n'),
    )
    .action(async (options: { json?: boolean }) => {
      const { readSandboxNetworkPolicy } = await import('../../app/start-sandbox-network.ts');
      const { formatDoctorReport, runDoctor } = await import('../../doctor/index.ts');
      const report = await runDoctor({
        env: context.env,
        workspaceRoot: context.cwd,
        sandboxNetwork: readSandboxNetworkPolicy(context),
      });
      if (options.json === true) writeJson(context, report);
      else context.stdout(formatDoctorReport(report));
      if (!report.ok) context.exitCode = ExitCode.error;
    });
}
