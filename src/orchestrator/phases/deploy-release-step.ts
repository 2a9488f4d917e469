import { join } from 'node:path';
import { deployRelease, LocalTarget, smokePathsFromOpenApi } from '../../deploy/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { buildSandboxEnvironment, findExecutable } from '../../sandbox/index.ts';
import { need, type RunContext } from './run-context.ts';
import type { PhaseVerdict } from './run-phase-module.ts';

/**
 * The last step of Deployment: main, verified, becomes a release served by the local target and
 * keeps serving after the run. A release that fails its checks is rolled back by the target (the
 * one before keeps serving) and the run ends not verified, saying why. Skipped with --no-deploy and
 * for a product that is not a service.
 */
export async function deployReleaseStep(context: RunContext): Promise<PhaseVerdict> {
  const { options, workspace } = context;
  if (options.deploy === false) return { outcome: 'passed', details: 'not deployed (--no-deploy)' };
  const architecture = need(context, 'architecture');
  const deployment = architecture.deployment;
  if (deployment === null) return { outcome: 'passed', details: 'not a service: nothing to deploy' };
  const root = workspace.paths.root;
  const env = options.verifyEnvironment;
  await options.flush?.();
  const result = await deployRelease({
    store: workspace.store,
    target: new LocalTarget({
      workspaceRoot: root,
      bubblewrapPath:
        options.runner.kind === 'bubblewrap' ? (findExecutable('bwrap', env.PATH) ?? null) : null,
      env,
    }),
    repositoryRoot: root,
    releasesDirectory: join(workspace.paths.lokiDirectory, 'releases'),
    commit: context.products.mainVerification?.commit ?? `refs/heads/${context.mainBranch}`,
    spec: {
      startCommand: deployment.startCommand,
      healthPath: deployment.healthPath,
      buildCommand: deployment.buildCommand ?? null,
      smokePaths:
        architecture.openapi === null
          ? []
          : smokePathsFromOpenApi(architecture.openapi).filter((path) => path !== deployment.healthPath),
    },
    strategy: 'blue-green',
    runner: options.runner,
    buildEnv: buildSandboxEnvironment(env, { overrides: { CI: 'true' } }),
    runId: context.runId,
    signal: options.signal,
  });
  context.products.deployment = result;
  const checks = result.checks.map((check) => `${check.name} ${check.verdict}`).join(', ');
  if (result.status === 'live') {
    return { outcome: 'passed', details: `${result.version} live at ${result.url ?? '-'} (${checks})` };
  }
  const details = `${result.version} ${result.status === 'rolled_back' ? 'was rolled back' : 'could not be deployed'}: ${result.reason ?? ''}`;
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
