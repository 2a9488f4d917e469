import { detectCommandRunner } from '../sandbox/index.ts';
import { deployTargetsCheck } from './deploy-targets-check.ts';
import { findExecutable } from './find-executable.ts';
import { readVersion } from './read-version.ts';
import { sandboxNetworkCheck, type SandboxNetworkPolicy } from './sandbox-network-check.ts';
import { storeCheck } from './store-check.ts';

/**
 * `ok`: present and usable. `missing`: not there at all. `warning`: there but not usable as is
 * (a tool whose `--version` fails, a Node that is too old, a credential set to an empty string).
 */
export type DoctorCheckStatus = 'ok' | 'missing' | 'warning';

export interface DoctorCheck {
  name: string;
  /** A required check that is not `ok` makes the whole report fail (exit code 1). */
  isRequired: boolean;
  status: DoctorCheckStatus;
  /** Version and path when found; what is wrong and what it is needed for otherwise. */
  detail: string;
  /** A command or step that fixes it; present only when status is not `ok`. */
  fix?: string;
}

export interface DoctorReport {
  /** True when every required check is `ok`. */
  ok: boolean;
  checks: DoctorCheck[];
}

export interface RunDoctorOptions {
  /** The environment, injected: PATH decides which tools are found, and credentials are read here. */
  env: Readonly<Record<string, string | undefined>>;
  /** The running Node's version without the `v`; injectable so the "too old" path can be tested. */
  nodeVersion?: string;
  nodeExecutablePath?: string;
  /** Per tool; a `--version` that takes longer is reported as a warning, not waited for. */
  versionTimeoutMs?: number;
  signal?: AbortSignal;
  /** Also check the store of the workspace here (integrity, backups), when there is one. */
  workspaceRoot?: string;
  /** The configured network policy of sandboxed commands, shown with the runner that enforces it. */
  sandboxNetwork?: SandboxNetworkPolicy;
}

/** The `engines.node` floor in package.json; the two MUST move together. */
export const MINIMUM_NODE_VERSION = [22, 13, 0] as const;

interface ToolSpecification {
  name: string;
  /** Tried in order; the first one on PATH wins. */
  executables: readonly string[];
  isRequired: boolean;
  purpose: string;
  fix: string;
}

const TOOLS: readonly ToolSpecification[] = [
  {
    name: 'git',
    executables: ['git'],
    isRequired: true,
    purpose: 'every agent works in its own git worktree',
    fix: 'apt-get install git (or see https://git-scm.com/downloads)',
  },
  {
    name: 'bwrap',
    executables: ['bwrap'],
    isRequired: false,
    purpose: 'optional: sandbox for agent commands; without it a plain runner is used',
    fix: 'apt-get install bubblewrap',
  },
  {
    name: 'chromium',
    executables: ['chromium', 'chromium-browser', 'google-chrome'],
    isRequired: false,
    purpose: 'optional: a real browser for the dashboard tests',
    fix: 'apt-get install chromium',
  },
];

const AGENT_CLIS: readonly ToolSpecification[] = [
  {
    name: 'claude',
    executables: ['claude'],
    isRequired: false,
    purpose: 'optional: the Claude Code agent CLI runtime',
    fix: 'npm install -g @anthropic-ai/claude-code',
  },
  {
    name: 'codex',
    executables: ['codex'],
    isRequired: false,
    purpose: 'optional: the Codex agent CLI runtime',
    fix: 'npm install -g @openai/codex',
  },
];

interface CredentialSpecification {
  variable: string;
  purpose: string;
  fix: string;
}

const CREDENTIALS: readonly CredentialSpecification[] = [
  {
    variable: 'ANTHROPIC_API_KEY',
    purpose: 'optional: the Anthropic API provider',
    fix: 'export ANTHROPIC_API_KEY=<key from https://console.anthropic.com/>',
  },
  {
    variable: 'OPENAI_API_KEY',
    purpose: 'optional: the OpenAI API provider',
    fix: 'export OPENAI_API_KEY=<key from https://platform.openai.com/>',
  },
  {
    variable: 'OPENAI_BASE_URL',
    purpose: 'optional: an OpenAI-compatible server instead of api.openai.com',
    fix: 'only for an OpenAI-compatible server: export OPENAI_BASE_URL=<its /v1 URL>',
  },
];

/** Checks everything Loki needs from the machine. Never throws for a missing tool: that is a finding. */
export async function runDoctor(options: RunDoctorOptions): Promise<DoctorReport> {
  const versionTimeoutMs = options.versionTimeoutMs ?? 5000;
  const checkTool = (tool: ToolSpecification) =>
    runToolCheck(tool, { env: options.env, timeoutMs: versionTimeoutMs, signal: options.signal });

  // Tools are independent, so their `--version` calls run side by side.
  const [toolChecks, agentCliChecks, deployTargets] = await Promise.all([
    Promise.all(TOOLS.map(checkTool)),
    Promise.all(AGENT_CLIS.map(checkTool)),
    deployTargetsCheck(options.env),
  ]);
  const credentialChecks = CREDENTIALS.map((credential) => runCredentialCheck(credential, options.env));
  const { check: sandbox, runnerKind } = await sandboxCheck(options.env, options.signal);

  const checks = [
    nodeCheck(options.nodeVersion ?? process.versions.node, options.nodeExecutablePath ?? process.execPath),
    ...toolChecks,
    sandbox,
    ...(options.sandboxNetwork === undefined
      ? []
      : [sandboxNetworkCheck(options.sandboxNetwork, runnerKind)]),
    ...credentialChecks,
    ...agentCliChecks,
    agentRuntimeCheck([...agentCliChecks, ...credentialChecks]),
    deployTargets,
    ...(options.workspaceRoot === undefined ? [] : [storeCheck(options.workspaceRoot)]).filter(
      (check) => check !== null,
    ),
  ];
  return { ok: checks.every((check) => !check.isRequired || check.status === 'ok'), checks };
}

function nodeCheck(version: string, executablePath: string): DoctorCheck {
  const minimum = MINIMUM_NODE_VERSION.join('.');
  const fix = `install Node.js ${MINIMUM_NODE_VERSION[0]}.${MINIMUM_NODE_VERSION[1]} or newer (https://nodejs.org/)`;
  const parts = version.split('.').map((part) => Number.parseInt(part, 10));
  if (parts.length < 3 || parts.some((part) => Number.isNaN(part))) {
    return {
      name: 'node',
      isRequired: true,
      status: 'warning',
      detail: `cannot read version "${version}"`,
      fix,
    };
  }
  if (compareVersions(parts, MINIMUM_NODE_VERSION) < 0) {
    return {
      name: 'node',
      isRequired: true,
      status: 'warning',
      detail: `v${version} is older than the required ${minimum} (${executablePath})`,
      fix,
    };
  }
  return { name: 'node', isRequired: true, status: 'ok', detail: `v${version} (${executablePath})` };
}

function compareVersions(left: readonly number[], right: readonly number[]): number {
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

async function runToolCheck(
  tool: ToolSpecification,
  options: { env: RunDoctorOptions['env']; timeoutMs: number; signal: AbortSignal | undefined },
): Promise<DoctorCheck> {
  const base = { name: tool.name, isRequired: tool.isRequired };
  const executablePath = tool.executables
    .map((executable) => findExecutable(executable, options.env.PATH))
    .find((path) => path !== undefined);
  if (executablePath === undefined) {
    const looked = tool.executables.join(', ');
    return {
      ...base,
      status: 'missing',
      detail: `${looked} not found on PATH; ${tool.purpose}`,
      fix: tool.fix,
    };
  }
  const result = await readVersion(executablePath, {
    env: options.env,
    timeoutMs: options.timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (!result.isOk) {
    return { ...base, status: 'warning', detail: `${executablePath}: ${result.reason}`, fix: tool.fix };
  }
  return { ...base, status: 'ok', detail: `${result.version} (${executablePath})` };
}

/** Reports presence only. The value MUST never reach the report: it is printed and may be logged. */
function runCredentialCheck(credential: CredentialSpecification, env: RunDoctorOptions['env']): DoctorCheck {
  const base = { name: credential.variable, isRequired: false };
  const value = env[credential.variable];
  if (value === undefined) {
    return {
      ...base,
      status: 'missing',
      detail: `not set; ${credential.purpose}`,
      fix: credential.fix,
    };
  }
  if (value.trim() === '') {
    return {
      ...base,
      status: 'warning',
      detail: `set but empty; ${credential.purpose}`,
      fix: `${credential.fix}, or unset it`,
    };
  }
  return { ...base, status: 'ok', detail: 'set' };
}

/**
 * No single agent CLI or key is required, but with none of them Loki has nothing to run agents
 * with; say so once instead of leaving the user to infer it from five separate lines.
 */
function agentRuntimeCheck(candidates: readonly DoctorCheck[]): DoctorCheck {
  const runtimeNames = new Set(['claude', 'codex', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY']);
  const available = candidates
    .filter((check) => runtimeNames.has(check.name) && check.status === 'ok')
    .map((check) => check.name);
  if (available.length > 0) {
    return {
      name: 'agent runtime',
      isRequired: false,
      status: 'ok',
      detail: `available: ${available.join(', ')}`,
    };
  }
  return {
    name: 'agent runtime',
    isRequired: false,
    status: 'warning',
    detail: 'no agent CLI on PATH and no provider API key set; runs cannot start agents',
    fix: 'install claude or codex, or export ANTHROPIC_API_KEY or OPENAI_API_KEY',
  };
}

/** Whether agent commands will really be isolated here: bwrap present AND a trial run inside it works. */
async function sandboxCheck(
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal | undefined,
): Promise<{ check: DoctorCheck; runnerKind: 'bubblewrap' | 'plain' }> {
  const detection = await detectCommandRunner({ env, ...(signal === undefined ? {} : { signal }) });
  const runnerKind = detection.runner.kind;
  if (runnerKind === 'bubblewrap') {
    return {
      runnerKind,
      check: { name: 'sandbox', isRequired: false, status: 'ok', detail: detection.reason },
    };
  }
  return {
    runnerKind,
    check: {
      name: 'sandbox',
      isRequired: false,
      status: 'warning',
      detail: `plain runner: ${detection.reason}`,
      fix: 'apt-get install bubblewrap (and allow unprivileged user namespaces if it still fails)',
    },
  };
}
