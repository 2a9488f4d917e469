import { type Command, Option } from 'commander';
import { parseWholeNumberOption } from '../../app/parse-whole-number.ts';
import type { DeploymentResult } from '../../deploy/index.ts';
import { DEPLOY_STRATEGIES, type DeployStrategy } from '../../deploy/target.ts';
import { ExitCode } from '../../errors/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';

interface DeployFlags {
  strategy?: DeployStrategy;
  commit?: string;
  healthTimeout: string;
  json?: boolean;
}

/** `--json` given after a subcommand of `deploy` is parsed by `deploy` itself (commander's default). */
function wantsJson(options: { json?: boolean }, command: Command): boolean {
  return options.json === true || command.parent?.opts<{ json?: boolean }>().json === true;
}

const MARK = { pass: '✓', fail: '✗', 'not-proven': '?' } as const;

const EXIT_CODE_OF_STATUS = {
  live: ExitCode.ok,
  rolled_back: ExitCode.notVerified,
  not_proven: ExitCode.notVerified,
  failed: ExitCode.error,
} as const satisfies Record<DeploymentResult['status'], ExitCode>;

export function registerDeployCommands(program: Command, context: CliContext): void {
  const deploy = program
    .command('deploy')
    .description(
      'build a release of main, verify it and put it live on the target of .loki/config/deploy.yaml (default: the local proxy, which keeps serving after loki exits)',
    )
    .addOption(
      new Option(
        '--strategy <strategy>',
        "how the new release takes over (default: deploy.yaml's strategy, else blue-green)",
      ).choices(DEPLOY_STRATEGIES),
    )
    .option('--commit <ref>', 'release this commit instead of the checked-out main')
    .option('--health-timeout <seconds>', 'how long the new release has to answer its health path', '30')
    .option('--json', 'print the deployment as JSON')
    .addHelpText(
      'after',
      [
        '',
        'blue-green: the new release starts beside the old one, must answer its health path and smoke requests',
        '  (the GET paths of .loki/specs/openapi.yaml), then the proxy switches at once; the old one stays warm.',
        'canary: after its checks the new release gets 10 %, then 50 % of requests while Loki compares its',
        '  error rate and latency with the old one; over the thresholds it is rolled back by itself.',
        'Container and cloud targets (deploy.yaml target:) deploy through their CLI, check the live URL and roll back by the',
        "  platform's own means; they take blue-green only.",
        'Exit code 0 when the release is live, 3 when it was rolled back or its target cannot deploy from here (not proven,',
        '  with the reason), 1 when it could not be built or started, 2 when deploy.yaml is invalid.',
      ].join('\n'),
    )
    .action(async (options: DeployFlags, command: Command) => {
      const json = options.json === true;
      const healthTimeoutSeconds = parseWholeNumberOption(options.healthTimeout, '--health-timeout', 3_600);
      const { deployProduct } = await import('../../app/deploy-product.ts');
      const result = await deployProduct(appContextOf(command, context), {
        ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
        healthTimeoutSeconds,
        ...(options.commit === undefined ? {} : { commit: options.commit }),
        ...(json
          ? {}
          : { onProgress: (message: string) => context.stderr(`loki: ${sanitizeForTerminal(message)}\n`) }),
        onWarning: (message: string) => context.stderr(`loki: warning: ${sanitizeForTerminal(message)}\n`),
      });
      if (json) writeJson(context, result);
      else context.stdout(describeDeployment(result));
      context.exitCode = EXIT_CODE_OF_STATUS[result.status];
    });

  deploy
    .command('status')
    .description('what the configured target serves now: URL, live release, warm releases, processes')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { readDeployments } = await import('../../app/deploy-product.ts');
      const overview = await readDeployments(appContextOf(command, context));
      if (wantsJson(options, command)) writeJson(context, overview.status);
      else {
        const status = overview.status;
        context.stdout(
          status.isServing
            ? `serving ${status.activeVersion ?? '-'} at ${status.url ?? '-'}${status.warmVersions.length > 0 ? ` (warm: ${status.warmVersions.join(', ')})` : ''}\n${status.detail}\n`
            : `not serving — ${status.detail}\n`,
        );
      }
    });

  deploy
    .command('stop')
    .description(
      'stop what the target runs here: the local proxy, its supervisor and releases, or the containers',
    )
    .action(async (_options: unknown, command: Command) => {
      const { stopDeployment } = await import('../../app/deploy-product.ts');
      const stopped = await stopDeployment(appContextOf(command, context));
      context.stdout(
        stopped.wasRunning
          ? `stopped${stopped.stoppedVersion === null ? '' : ` (${stopped.stoppedVersion} was live)`}\n`
          : 'nothing was running\n',
      );
    });

  // The supervisor process itself, started detached by `loki deploy`; not for people to call.
  deploy
    .command('supervise', { hidden: true })
    .requiredOption('--workspace <path>', 'the workspace whose releases it serves')
    .action(async (options: { workspace: string }) => {
      const { runSupervisor } = await import('../../deploy/local/run-supervisor.ts');
      await runSupervisor({ workspaceRoot: options.workspace, env: context.env });
    });

  program
    .command('deployments')
    .description('the release history: version, commit, target, status, URL, when')
    .option('--json', 'print the releases as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { readDeployments } = await import('../../app/deploy-product.ts');
      const { releases } = await readDeployments(appContextOf(command, context));
      if (options.json === true) {
        writeJson(context, releases);
        return;
      }
      if (releases.length === 0) context.stdout('no releases yet (loki deploy makes one)\n');
      for (const release of releases) {
        const when = new Date(release.deployedAt ?? release.createdAt).toISOString();
        const reason = release.reason === null ? '' : ` — ${release.reason}`;
        context.stdout(
          sanitizeForTerminal(
            `${release.version}  ${release.commit.slice(0, 12)}  ${release.target}  ${release.status}  ${release.url ?? '-'}  ${when}${reason}`,
          ) + '\n',
        );
      }
    });

  program
    .command('rollback')
    .description('switch the configured target back to the previous healthy release (or --to VERSION)')
    .option('--to <version>', 'the release to go back to, e.g. v2 (see loki deployments)')
    .option('--json', 'print the outcome as JSON')
    .action(async (options: { to?: string; json?: boolean }, command: Command) => {
      const { rollbackDeployment } = await import('../../app/deploy-product.ts');
      const result = await rollbackDeployment(appContextOf(command, context), options.to ?? null);
      if (options.json === true) writeJson(context, result);
      else {
        context.stdout(
          `rolled back${result.fromVersion === null ? '' : ` from ${result.fromVersion}`} to ${result.version}${result.wasWarm ? ' (it was warm)' : ''}: ${result.url ?? '-'}\n`,
        );
      }
    });
}

function describeDeployment(result: DeploymentResult): string {
  const lines = result.checks.map((check) => `${MARK[check.verdict]} ${check.name}: ${check.detail}`);
  for (const step of result.canarySteps) {
    lines.push(
      `${step.passed ? MARK.pass : MARK.fail} canary ${String(step.percent)} %: ${String(step.candidate.errors)}/${String(step.candidate.requests)} errors against ${String(step.baseline.errors)}/${String(step.baseline.requests)}`,
    );
  }
  const headline =
    result.status === 'live'
      ? `${result.version} (${result.commit.slice(0, 12)}) is live at ${result.url ?? '-'}`
      : result.status === 'rolled_back'
        ? `${result.version} was rolled back: ${result.reason ?? ''}${result.url === null ? '' : `; ${result.url} still serves the previous release`}`
        : result.status === 'not_proven'
          ? `${result.version} was not deployed (not proven): ${result.reason ?? ''}`
          : `${result.version} could not be deployed: ${result.reason ?? ''}`;
  return sanitizeForTerminal([...lines, headline].join('\n')) + '\n';
}
