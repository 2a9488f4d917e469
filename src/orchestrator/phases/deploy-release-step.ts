import { join } from 'node:path';
import { createConfiguredTarget, deployRelease, smokePathsFromOpenApi } from '../../deploy/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { createLiveAppGates } from '../../gates/index.ts';
import { buildSandboxEnvironment, findExecutable } from '../../sandbox/index.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseVerdict } from './run-phase-module.ts';

/**
 * The last step of Deployment: main, verified, becomes a release on the target of
 * `.loki/config/deploy.yaml` (the local target by default, which keeps serving after the run). A
 * release that fails its checks (health, smoke requests, then the deployment stage's performance and
 * accessibility gates) is rolled back by the target (the one before keeps serving), and a
 * target that cannot deploy from here is not proven: either way the run ends not verified, saying
 * why. Skipped with --no-deploy and for a product that is not a service.
 */
export async function deployReleaseStep(context: RunContext): Promise<PhaseVerdict> {
  const { options, workspace } = context;
  if (options.deploy === false) return { outcome: 'passed', details: 'not deployed (--no-deploy)' };
  const architecture = need(context, 'architecture');
  const deployment = architecture.deployment;
  if (deployment === null) return { outcome: 'passed', details: 'not a service: nothing to deploy' };
  const root = workspace.paths.root;
  const env = options.verifyEnvironment;
  const targetEnv = options.deployEnvironment ?? env;
  await options.flush?.();
  const configured = createConfiguredTarget({
    workspaceRoot: root,
    store: workspace.store,
    // The local target's apps get the verify environment (no credentials); a cloud CLI needs them.
    env,
    cliEnv: targetEnv,
    bubblewrapPath: options.runner.kind === 'bubblewrap' ? (findExecutable('bwrap', env.PATH) ?? null) : null,
  });
  const healthPath = configured.healthPath ?? deployment.healthPath;
  const smokePaths =
    architecture.openapi === null
      ? []
      : smokePathsFromOpenApi(architecture.openapi).filter((path) => path !== healthPath);
  const result = await deployRelease({
    store: workspace.store,
    target: configured.target,
    repositoryRoot: root,
    releasesDirectory: join(workspace.paths.lokiDirectory, 'releases'),
    commit: context.products.mainVerification?.commit ?? `refs/heads/${context.mainBranch}`,
    spec: {
      startCommand: deployment.startCommand,
      healthPath,
      buildCommand: deployment.buildCommand ?? null,
      smokePaths,
    },
    strategy: configured.strategy,
    runner: options.runner,
    buildEnv: buildSandboxEnvironment(env, { overrides: { CI: 'true' } }),
    targetEnv,
    runId: context.runId,
    // The deployment stage's performance and accessibility gates, on the release itself.
    extraChecks: createLiveAppGates({ config: context.gates, healthPath, smokePaths }),
    signal: options.signal,
  });
  context.products.deployment = result;
  const checks = result.checks.map((check) => `${check.name} ${check.verdict}`).join(', ');
  if (result.status === 'live') {
    return { outcome: 'passed', details: `${result.version} live at ${result.url ?? '-'} (${checks})` };
  }
  const details = `${result.version} ${DID_NOT_GO_LIVE[result.status]}: ${result.reason ?? ''}`;
  return {
    outcome: 'failed',
    details,
    ending: {
      outcome: 'not_verified',
      exitCode: ExitCode.notVerified,
      summary: `the release of main did not go live: ${details}`,
    },
  };
}

const DID_NOT_GO_LIVE = {
  rolled_back: 'was rolled back',
  failed: 'could not be deployed',
  not_proven: 'was not deployed (not proven here)',
} as const;
