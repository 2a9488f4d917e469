import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type CliRunner, runOrThrow } from './cli-runner.ts';
import type {
  CloudTarget,
  TargetDetection,
  DeployedRelease,
  Release,
  RollbackResult,
  TargetStatus,
} from './cloud-target.ts';
import { rolloutFailedError } from './deploy-errors.ts';
import { type CredentialCheck, detectTool } from './detect-tool.ts';

/**
 * Kubernetes through `kubectl`: apply the release's manifests, wait for the deployment's rollout,
 * and undo the rollout when it fails or the release fails its checks.
 * Docs: https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/ (`-f` file or directory),
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_rollout/kubectl_rollout_status/
 * (`--timeout`; non-zero exit when the rollout does not finish),
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_rollout/kubectl_rollout_undo/.
 */
export interface KubernetesSettings {
  /** Inside the release: a manifest file or a directory of them. */
  manifests: string;
  deployment: string;
  namespace?: string | undefined;
  context?: string | undefined;
  url: string;
  rolloutTimeoutSeconds: number;
}

export class KubernetesTarget implements CloudTarget {
  readonly name = 'kubernetes';
  readonly #runner: CliRunner;
  readonly #settings: KubernetesSettings;
  #live: { version: string; directory: string } | undefined;

  constructor(runner: CliRunner, settings: KubernetesSettings) {
    this.#runner = runner;
    this.#settings = settings;
  }

  detect() {
    return detectKubernetes(this.#runner);
  }

  async deploy(release: Release, signal?: AbortSignal): Promise<DeployedRelease> {
    this.#live = undefined;
    await runOrThrow(
      this.#runner,
      {
        executable: 'kubectl',
        args: [...this.#scope(), 'apply', '-f', join(release.directory, this.#settings.manifests)],
        cwd: release.directory,
        signal,
      },
      'kubectl apply',
    );
    // Applied: from here the cluster may run the new pods, so a rollback has something to undo.
    this.#live = { version: release.version, directory: release.directory };
    const rollout = await this.#runner.run({
      executable: 'kubectl',
      args: [
        ...this.#scope(),
        'rollout',
        'status',
        this.#resource(),
        `--timeout=${this.#settings.rolloutTimeoutSeconds}s`,
      ],
      cwd: release.directory,
      // kubectl gives up at --timeout; this only catches a kubectl that hangs past it.
      timeoutMilliseconds: (this.#settings.rolloutTimeoutSeconds + 60) * 1000,
      signal,
    });
    if (rollout.exitCode !== 0 || rollout.timedOut) {
      const said = (rollout.stderr || rollout.stdout).trim().split('\n').at(-1) ?? '';
      throw rolloutFailedError(
        `kubectl rollout status ${this.#resource()}`,
        `the rollout did not finish (${said})`,
      );
    }
    return { url: this.#settings.url };
  }

  async rollback(signal?: AbortSignal): Promise<RollbackResult> {
    const live = this.#live;
    if (live === undefined) return { rolledBack: false, detail: 'nothing to roll back: nothing was applied' };
    await runOrThrow(
      this.#runner,
      {
        executable: 'kubectl',
        args: [...this.#scope(), 'rollout', 'undo', this.#resource()],
        cwd: live.directory,
        signal,
      },
      'kubectl rollout undo',
    );
    this.#live = undefined;
    return { rolledBack: true, detail: `${this.#resource()} back on its previous revision` };
  }

  async status(): Promise<TargetStatus> {
    return this.#live === undefined
      ? { detail: 'no release deployed by this process' }
      : { url: this.#settings.url, version: this.#live.version, detail: this.#resource() };
  }

  #resource(): string {
    return `deployment/${this.#settings.deployment}`;
  }

  /** Global flags first, as kubectl's usage lines write them. */
  #scope(): string[] {
    return [
      ...(this.#settings.context === undefined ? [] : ['--context', this.#settings.context]),
      ...(this.#settings.namespace === undefined ? [] : ['--namespace', this.#settings.namespace]),
    ];
  }
}

/** Usable: the CLI on PATH and its credential present (presence only, never the value). */
export function detectKubernetes(runner: CliRunner): Promise<TargetDetection> {
  return detectTool(
    runner,
    { executables: ['kubectl'], install: 'https://kubernetes.io/docs/tasks/tools/' },
    () => credential(runner),
  );
}

/** A kubeconfig: the files KUBECONFIG lists, or ~/.kube/config. Presence only; the cluster is not contacted. */
function credential(runner: CliRunner): CredentialCheck {
  const env = runner.env;
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '');
  const candidates =
    listed.length > 0 ? listed : env.HOME === undefined ? [] : [join(env.HOME, '.kube', 'config')];
  return candidates.some((path) => existsSync(path))
    ? { isPresent: true, description: listed.length > 0 ? 'KUBECONFIG' : '~/.kube/config' }
    : { isPresent: false, description: 'no kubeconfig (set KUBECONFIG or write ~/.kube/config)' };
}
