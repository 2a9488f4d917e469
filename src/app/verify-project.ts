import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type EvidenceDocument,
  formatEvidenceHtml,
  formatEvidenceMarkdownSections,
  type GateResult,
  type GateRun,
  runGates,
} from '../gates/index.ts';
import { buildSandboxEnvironment, detectCommandRunner } from '../sandbox/index.ts';
import { writeFileAtomic } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { resolveAppConfig } from './open-app-workspace.ts';
import { startSandboxNetwork } from './start-sandbox-network.ts';
import { buildVerifyEvidence } from './verify-evidence.ts';

export interface VerifyRequest {
  /** Only these gates; all when empty. */
  gates: readonly string[];
  timeoutSeconds: number;
  signal?: AbortSignal;
  /** Told each gate's result as it comes, for progress output. */
  onResult?: (result: GateResult) => void;
  /** A connection the sandbox's network policy refused (host and the key that would allow it). */
  onWarning?: (text: string) => void;
}

export interface VerifyOutcome extends GateRun {
  projectDirectory: string;
  commandRunner: string;
  /** The evidence: requirements traced (when Loki's specs are here), what is not proven, exit code. */
  evidence: EvidenceDocument;
  /** The evidence report written: `.loki/artifacts/reports/verify-<time>.json`, `.md` and `.html`. */
  reportPaths: { json: string; markdown: string; html: string };
}

/**
 * `loki verify`: the gates on a project directory, without any agent, through the same sandbox as
 * agents' commands (no network: a gate that needs it says not proven). Works on any project, Loki's
 * or not; the evidence report goes to the project's `.loki/artifacts/reports/`.
 */
export async function verifyProject(context: AppContext, request: VerifyRequest): Promise<VerifyOutcome> {
  // The gates that ask for the network (the dependency audit) get it through the configured
  // policy, as agents' commands do: by default only package registries are reachable.
  await using network = await startSandboxNetwork({
    config: resolveAppConfig(context).values,
    provider: 'scripted',
    env: context.env,
    warn: (text) => request.onWarning?.(text),
  });
  const detection = await detectCommandRunner({
    env: context.env,
    network: network.access,
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  });
  const run = await runGates(
    {
      projectDirectory: context.cwd,
      runner: detection.runner,
      env: buildSandboxEnvironment(context.env, { overrides: { CI: 'true' } }),
      timeoutMilliseconds: request.timeoutSeconds * 1000,
      now: () => context.clock.now(),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    },
    request.gates,
    request.onResult,
  );
  const evidence = buildVerifyEvidence(context.cwd, run, new Date(context.clock.now()).toISOString());
  const reportPaths = writeVerifyReport(
    context,
    { ...run, headline: evidence.headline },
    evidence,
    detection.runner.kind,
  );
  return {
    ...run,
    headline: evidence.headline,
    projectDirectory: context.cwd,
    commandRunner: detection.runner.kind,
    evidence,
    reportPaths,
  };
}

function writeVerifyReport(
  context: AppContext,
  run: GateRun,
  evidence: EvidenceDocument,
  commandRunner: string,
): VerifyOutcome['reportPaths'] {
  const directory = join(context.cwd, '.loki', 'artifacts', 'reports');
  mkdirSync(directory, { recursive: true });
  const stamp = new Date(context.clock.now()).toISOString().replace(/[:.]/g, '-');
  const paths = {
    json: join(directory, `verify-${stamp}.json`),
    markdown: join(directory, `verify-${stamp}.md`),
    html: join(directory, `verify-${stamp}.html`),
  };
  const report = { kind: 'loki-verify', createdAt: context.clock.now(), commandRunner, ...run, ...evidence };
  writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomic(
    paths.markdown,
    `${formatVerifyMarkdown(run, commandRunner)}\n${formatEvidenceMarkdownSections(evidence).join('\n')}`,
  );
  writeFileAtomic(paths.html, formatEvidenceHtml(evidence));
  return paths;
}

/** The report for people; gate output is the project's text, kept inside fenced blocks. */
export function formatVerifyMarkdown(run: GateRun, commandRunner: string): string {
  const lines = [
    `# loki verify: ${run.headline}`,
    '',
    `Commands ran in the ${commandRunner} sandbox, without network.`,
    '',
  ];
  lines.push('| gate | verdict | reason |', '|---|---|---|');
  for (const result of run.results) {
    lines.push(
      `| ${result.gate} | ${result.verdict} | ${result.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
    );
  }
  for (const result of run.results) {
    if (result.evidence.command === null) continue;
    lines.push(
      '',
      `## ${result.gate}`,
      '',
      `\`${result.evidence.command}\` exited ${result.evidence.exitCode ?? '(no code)'} in ${result.evidence.durationMilliseconds} ms.`,
    );
    const fence = '~'.repeat(Math.max(3, longestRun(result.evidence.outputExcerpt, '~') + 1));
    lines.push('', fence, result.evidence.outputExcerpt, fence);
  }
  return `${lines.join('\n')}\n`;
}

function longestRun(text: string, character: string): number {
  let longest = 0;
  let current = 0;
  for (const each of text) {
    current = each === character ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}
