import { spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { GitHubActionInputs } from './github-action-inputs.ts';

/** GitHub refuses a step summary over 1 MiB; the report is cut well before. */
const SUMMARY_LIMIT = 900_000;

export interface GitHubActionOutcome {
  exitCode: number;
  /** VERIFIED / NOT VERIFIED for verify; the run's status word for run; null without a report. */
  headline: string | null;
  artifactDirectory: string;
  reportMarkdown: string | null;
}

/**
 * The Action's one step: runs `loki run` or `loki verify` in the working directory, gathers the
 * evidence reports this invocation wrote (and its output) into the artifact directory, writes the
 * report as the job summary and the outcome as step outputs. Loki's exit code is the step's.
 */
export async function runGitHubAction(
  inputs: GitHubActionInputs,
  lokiBin: string,
  env: NodeJS.ProcessEnv,
): Promise<GitHubActionOutcome> {
  const startedAt = Date.now();
  mkdirSync(inputs.artifactDirectory, { recursive: true });
  const { exitCode, output } = await runLoki(lokiBin, argumentsOf(inputs), inputs.workingDirectory, env);
  writeFileSync(join(inputs.artifactDirectory, 'loki-output.log'), output);
  const reports = copyNewReports(inputs, startedAt);
  const markdown = reports.find((name) => name.endsWith('.md')) ?? null;
  const json = reports.find((name) => name.endsWith('.json')) ?? null;
  const headline = json === null ? null : headlineOf(join(inputs.artifactDirectory, json));
  writeSummary(inputs, exitCode, headline, markdown);
  const outcome: GitHubActionOutcome = {
    exitCode,
    headline,
    artifactDirectory: inputs.artifactDirectory,
    reportMarkdown: markdown === null ? null : join(inputs.artifactDirectory, markdown),
  };
  appendFileSync(
    inputs.outputPath,
    [
      `exit-code=${exitCode}`,
      `headline=${headline ?? ''}`,
      `artifact-dir=${outcome.artifactDirectory}`,
      `report=${outcome.reportMarkdown ?? ''}`,
      '',
    ].join('\n'),
  );
  return outcome;
}

function argumentsOf(inputs: GitHubActionInputs): string[] {
  if (inputs.command === 'verify')
    return ['verify', ...(inputs.gates.length > 0 ? ['--gate', ...inputs.gates] : [])];
  return [
    'run',
    inputs.prd ?? '',
    '--no-dashboard',
    ...(inputs.provider === null ? [] : ['--provider', inputs.provider]),
    ...(inputs.budget === null ? [] : ['--budget', inputs.budget]),
  ];
}

/** Loki's own output goes to the job log as it comes (already redacted by Loki) and to the artifact. */
function runLoki(lokiBin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ exitCode: number; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [lokiBin, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ exitCode: code ?? (signal === null ? 1 : 128), output }));
  });
}

/** The reports written since the step began: this invocation's evidence, not an older run's. */
function copyNewReports(inputs: GitHubActionInputs, startedAt: number): string[] {
  const directory = join(inputs.workingDirectory, '.loki', 'artifacts', 'reports');
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // A second of slack: some file systems keep modification times in whole seconds.
  const fresh = names.filter((name) => statSync(join(directory, name)).mtimeMs >= startedAt - 1000).sort();
  for (const name of fresh) copyFileSync(join(directory, name), join(inputs.artifactDirectory, name));
  return fresh;
}

function headlineOf(path: string): string | null {
  const report = JSON.parse(readFileSync(path, 'utf8')) as { headline?: unknown; status?: unknown };
  if (typeof report.headline === 'string') return report.headline;
  return typeof report.status === 'string' ? report.status : null;
}

function writeSummary(
  inputs: GitHubActionInputs,
  exitCode: number,
  headline: string | null,
  markdown: string | null,
): void {
  const title = `## Loki Mode: loki ${inputs.command} — ${headline ?? 'no report'} (exit ${exitCode})\n\n`;
  let body = 'Loki wrote no evidence report; see the step log.\n';
  if (markdown !== null) {
    body = readFileSync(join(inputs.artifactDirectory, markdown), 'utf8');
    if (body.length > SUMMARY_LIMIT)
      body = `${body.slice(0, SUMMARY_LIMIT)}\n\n… (cut; the whole report is in the artifact)\n`;
  }
  appendFileSync(inputs.stepSummaryPath, `${title}${body}\n`);
}
