import type { Command } from 'commander';
import { type CliContext, writeJson } from './cli-context.ts';

/**
 * `loki deploy targets [--json]`: which deploy targets this machine can use and why not. Attached
 * to the `deploy` command when it exists (the local target's commands), created otherwise.
 */
export function registerDeployTargetsCommand(program: Command, context: CliContext): void {
  const deploy =
    program.commands.find((command) => command.name() === 'deploy') ??
    program.command('deploy').description('deploy the product (see `loki deploy targets`)');
  deploy
    .command('targets')
    .description(
      'list the deploy targets and whether each is usable here (CLI on PATH and credentials present)',
    )
    .option('--json', 'print [{"name", "usable": boolean, "reason"}]; local is always usable')
    .addHelpText(
      'after',
      [
        '',
        'Cloud targets are used only when their CLI is on PATH and their credentials are present:',
        'vercel (VERCEL_TOKEN), netlify (NETLIFY_AUTH_TOKEN), fly (FLY_API_TOKEN), railway (RAILWAY_TOKEN),',
        'cloud-run (gcloud login or GOOGLE_APPLICATION_CREDENTIALS), app-runner (AWS credentials),',
        'container-apps (az login), kubernetes (a kubeconfig); container needs `docker info` or `podman info`',
        'to succeed. Credential values are never printed. Choose one with target: in .loki/config/deploy.yaml.',
      ].join('\n'),
    )
    .action(async (options: { json?: boolean }) => {
      const { createCliRunner, detectCloudTargets } = await import('../deploy/targets/index.ts');
      const targets = [
        {
          name: 'local',
          usable: true,
          reason: 'the default: runs on this machine, needs no CLI or credentials',
        },
        ...(await detectCloudTargets(createCliRunner({ env: context.env }))),
      ];
      if (options.json === true) {
        writeJson(context, targets);
        return;
      }
      const width = Math.max(...targets.map((target) => target.name.length));
      const lines = targets.map(
        (target) => `${target.usable ? '✓' : '-'} ${target.name.padEnd(width)}  ${target.reason}`,
      );
      context.stdout(`${lines.join('\n')}\n`);
    });
}
