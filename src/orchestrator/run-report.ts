import type { DeploymentResult } from '../deploy/index.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BudgetSummary } from '../budget/index.ts';
import type { LokiEvent, RunOutcomeWord } from '../events/index.ts';
import {
  decideHeadline,
  describePrdCoverage,
  type EvidenceDocument,
  evaluateCostGate,
  evidenceExitCode,
  formatEvidenceHtml,
  formatEvidenceMarkdownSections,
  gapsOfGatesAndReview,
  gapsOfRequirements,
  type GateResult as EvidenceGateResult,
  projectHostingCost,
  type RequirementTrace,
  resolveReviewFindings,
  traceRequirements,
} from '../gates/index.ts';
import { type ArchitectureDocument, phaseOfTask, type RequirementsDocument } from '../planning/index.ts';
import type { Redactor } from '../sandbox/index.ts';
import type { Task } from '../store/index.ts';
import { writeFileAtomic } from '../workspace/index.ts';
import type { MergedTask } from './merged-work.ts';
import { readTaskPayloadForReport } from './task-payload.ts';
import type { MainVerification } from './verify-main.ts';

/** How a run ended: the outcome words of `run.ended` (defined with the events). */
export type RunStatusWord = RunOutcomeWord;

export interface TaskReport {
  id: string;
  type: string;
  title: string;
  phase: string | null;
  status: string;
  attempts: number;
  /** The checkpoint on main that carries the task's work, or null when it is not merged. */
  commit: string | null;
  /** A resolution task that brought the work onto main. */
  mergedVia: string | null;
  resolves: string | null;
  requirementIds: string[];
  verifications: { command: string; passed: boolean; exitCode: number | null }[];
  lastError: string | null;
}

/** A requirement traced to its tests, gates, tasks and commits (`taskIds`: the same as `tasks`). */
export type RequirementReport = RequirementTrace & { taskIds: string[] };

export interface RunReport extends EvidenceDocument {
  runId: string;
  status: RunStatusWord;
  model: string;
  phases: { phase: string; outcome: string; details: string }[];
  requirements: RequirementReport[];
  tasks: TaskReport[];
  mainVerification: MainVerification | null;
  /** The release the run deployed: version, status, live URL, checks; null when none. */
  deployment: DeploymentResult | null;
  budget: BudgetSummary;
}

export interface BuildRunReportInput {
  runId: string;
  status: RunStatusWord;
  exitCode: number;
  summary: string;
  model: string;
  now: number;
  requirements: RequirementsDocument | null;
  architecture: ArchitectureDocument | null;
  tasks: readonly Task[];
  events: readonly LokiEvent[];
  merged: ReadonlyMap<string, MergedTask>;
  mainVerification: MainVerification | null;
  deployment?: DeploymentResult | null;
  budget: BudgetSummary;
}

/**
 * The run's evidence in one document: requirements → tasks → checkpoints on main → the tests and
 * gates that prove them, the review findings and how each was resolved, the money, and a plain list
 * of what is not proven. Everything in it was computed by the harness (git, the store, commands it
 * ran), not said by a model. The headline and the exit code follow from it: a run whose ending was
 * "completed" but that leaves a gap ends not verified (exit 3).
 */
export function buildRunReport(input: BuildRunReportInput): RunReport {
  const { phases, verificationsByTask } = readRunEvents(input);
  const tasks = reportTasks(input, verificationsByTask);
  // The quality gates main was held to at QA and Deployment (performance, accessibility, …) prove
  // the requirements of their kind; whether they block was decided there (main's verdict).
  const qualityGates = input.mainVerification?.qualityGates ?? [];
  const gates = [...mainGates(input), ...qualityGates];
  const traceability = traceRequirements({
    requirements: input.requirements?.requirements ?? [],
    tests: (input.mainVerification?.gates ?? []).flatMap((gate) => gate.testResults),
    gates,
    tasks: tasks.map((task) => ({ id: task.id, requirementIds: task.requirementIds, commit: task.commit })),
  });
  const reviewFindings = resolveReviewFindings(input.events, input.runId);
  const notProven = [
    ...gapsOfRequirements(traceability.requirements),
    ...tasks
      .filter((task) => task.commit === null)
      .map((task) => `task ${task.id} (${task.title}) is ${task.status}, not merged`),
    ...notProvenOnMain(input),
    ...gapsOfGatesAndReview(
      gates.filter((gate) => gate.gate === 'cost'),
      reviewFindings,
    ),
    ...(input.deployment?.status === 'not_proven'
      ? [`release ${input.deployment.version} was not deployed: ${input.deployment.reason ?? ''}`]
      : []),
  ];
  const hasFailed =
    !['completed', 'not_verified'].includes(input.status) ||
    input.mainVerification?.passed !== true ||
    gates.some((gate) => gate.verdict === 'fail' && !qualityGates.includes(gate));
  const headline = decideHeadline({ hasFailed, notProven });
  const exitCode = evidenceExitCode(headline, input.exitCode);
  const hasGaps = input.status === 'completed' && exitCode !== input.exitCode;
  return {
    title: `Loki Mode run ${input.runId}`,
    runId: input.runId,
    headline,
    status: hasGaps ? 'not_verified' : input.status,
    exitCode,
    summary: hasGaps
      ? `${input.summary}; but ${notProven.length} thing(s) not proven (${describePrdCoverage(traceability)})`
      : input.summary,
    model: input.model,
    generatedAt: new Date(input.now).toISOString(),
    prd:
      traceability.total === 0
        ? null
        : { proven: traceability.proven, total: traceability.total, percent: traceability.percent },
    phases,
    requirements: traceability.requirements.map((requirement) => ({
      ...requirement,
      taskIds: requirement.tasks,
    })),
    tasks,
    gates,
    reviewFindings,
    mainVerification: input.mainVerification,
    deployment: input.deployment ?? null,
    budget: input.budget,
    notProven,
  };
}

/** Main's verification as gate results (each command, the health check) and the cost gate. */
function mainGates(input: BuildRunReportInput): EvidenceGateResult[] {
  const verification = input.mainVerification;
  const gates: EvidenceGateResult[] = (verification?.gates ?? []).map((gate) => ({
    gate: `main: ${gate.command}`,
    verdict: gate.passed ? 'pass' : 'fail',
    reason:
      gate.tests === null
        ? `exit ${gate.exitCode ?? '?'}`
        : `exit ${gate.exitCode ?? '?'}: ${gate.tests.passed} passed, ${gate.tests.failed} failed, ${gate.tests.skipped} skipped (${gate.tests.framework})`,
    evidence: {
      command: gate.command,
      exitCode: gate.exitCode,
      durationMilliseconds: gate.durationMilliseconds,
      counts: gate.tests,
      outputExcerpt: gate.outputTail,
      files: [],
    },
  }));
  const health = verification?.health ?? null;
  if (health !== null) {
    gates.push({
      gate: 'health',
      verdict: health.passed ? 'pass' : 'fail',
      reason: `GET ${health.healthPath} answered ${health.statusCode ?? 'nothing'}`,
      evidence: {
        command: health.startCommand,
        exitCode: null,
        durationMilliseconds: health.durationMilliseconds,
        counts: null,
        outputExcerpt: health.outputTail,
        files: [],
      },
    });
  }
  const spend = {
    spentUsd: input.budget.spentUsd,
    capUsd: input.budget.capUsd,
    unknownPriceCalls: input.budget.unknownPriceCalls,
  };
  gates.push(evaluateCostGate(spend, projectHostingCost((input.architecture?.deployment ?? null) !== null)));
  return gates;
}

/** The phases' exits and the verifications of each task, from the run's events. */
function readRunEvents(input: BuildRunReportInput): {
  phases: RunReport['phases'];
  verificationsByTask: Map<string, TaskReport['verifications']>;
} {
  const verificationsByTask = new Map<string, TaskReport['verifications']>();
  const phases: RunReport['phases'] = [];
  for (const event of input.events) {
    if (event.runId !== input.runId && event.runId !== null) continue;
    if (event.type === 'verification.ran' && event.taskId !== null) {
      const list = verificationsByTask.get(event.taskId) ?? [];
      list.push({ command: event.data.command, passed: event.data.passed, exitCode: event.data.exitCode });
      verificationsByTask.set(event.taskId, list);
    }
    if (event.type === 'phase.exited' && event.runId === input.runId) {
      phases.push({ phase: event.data.phase, outcome: event.data.outcome, details: event.data.details });
    }
  }
  return { phases, verificationsByTask };
}

function reportTasks(
  input: BuildRunReportInput,
  verificationsByTask: ReadonlyMap<string, TaskReport['verifications']>,
): TaskReport[] {
  const plannedPhase = new Map(
    (input.architecture?.tasks ?? []).map((task) => [task.id, phaseOfTask(task)] as const),
  );
  return input.tasks
    .filter((task) => task.runId === input.runId)
    .map((task) => {
      const payload = readTaskPayloadForReport(task);
      // A QA task's sealed acceptance tests reach main with the merge of the task they were for.
      const merged =
        input.merged.get(task.id) ??
        (payload?.acceptanceFor === undefined ? undefined : acceptanceMerge(input, payload.acceptanceFor));
      return {
        id: task.id,
        type: task.type,
        title: task.title,
        phase: plannedPhase.get(task.id) ?? payload?.phase ?? null,
        status: task.status,
        attempts: task.attemptCount,
        commit: merged?.commit ?? null,
        mergedVia: merged?.via ?? null,
        resolves: payload?.resolves ?? null,
        // A malformed payload names no requirement; the task's lastError says what is wrong with it.
        requirementIds: payload?.requirementIds ?? [],
        verifications: verificationsByTask.get(task.id) ?? [],
        lastError: task.status === 'completed' ? null : task.lastError,
      };
    });
}

function acceptanceMerge(
  input: BuildRunReportInput,
  taskId: string,
): { commit: string; via: string | null } | undefined {
  const merged = input.merged.get(taskId);
  return merged === undefined ? undefined : { commit: merged.commit, via: taskId };
}

/** What the verification of main leaves unproven: failed or silent gates, an unchecked or failed boot. */
function notProvenOnMain(input: BuildRunReportInput): string[] {
  const verification = input.mainVerification;
  if (verification === null) return ['main was not verified in this run'];
  const notProven: string[] = [];
  for (const gate of verification.gates) {
    if (!gate.passed)
      notProven.push(`gate \`${gate.command}\` failed on main (exit ${gate.exitCode ?? '?'})`);
  }
  // A lint or build command prints no test counts, and need not; but some command must show tests ran.
  if (verification.gates.length > 0 && verification.gates.every((gate) => gate.tests === null)) {
    notProven.push(
      "no command of main's verification printed test counts Loki recognises: nothing shows that tests ran",
    );
  }
  // A product that is not a service has no boot to check: that is not a gap.
  if (verification.health === null) {
    if ((input.architecture?.deployment ?? null) !== null)
      notProven.push('the product was not started and its health path not probed');
  } else if (!verification.health.passed) {
    notProven.push(`health check GET ${verification.health.healthPath} did not answer 2xx`);
  }
  return notProven;
}

/**
 * Writes `<run-id>.json` and `<run-id>.md` under `.loki/artifacts/reports/`, secrets replaced by
 * `redactor` (the summary and verification output may quote a provider's error); returns both paths.
 */
export function writeRunReport(
  reportsDirectory: string,
  unredactedReport: RunReport,
  redactor: Redactor,
): { json: string; markdown: string; html: string } {
  const report = redactor.redactValue(unredactedReport) as RunReport;
  mkdirSync(reportsDirectory, { recursive: true });
  const json = join(reportsDirectory, `${report.runId}.json`);
  const markdown = join(reportsDirectory, `${report.runId}.md`);
  const html = join(reportsDirectory, `${report.runId}.html`);
  writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomic(markdown, formatRunReportMarkdown(report));
  writeFileAtomic(html, formatEvidenceHtml(report));
  return { json, markdown, html };
}

export function formatRunReportMarkdown(report: RunReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const lines = [
    `# Loki Mode run ${report.runId}`,
    '',
    `**${report.headline}**: ${report.status} (exit ${report.exitCode}): ${report.summary}`,
    '',
    `${describePrdCoverage(report.prd)}.`,
    '',
    `Model: ${report.model}. Generated ${report.generatedAt}.`,
    '',
    '## Phases',
    '',
  ];
  for (const phase of report.phases) lines.push(`- ${phase.phase}: ${phase.outcome}: ${phase.details}`);
  lines.push(
    '',
    '## Tasks',
    '',
    '| task | agent | status | commit | verification |',
    '|---|---|---|---|---|',
  );
  for (const task of report.tasks) {
    const last = task.verifications.at(-1);
    const verification =
      last === undefined ? '—' : `${last.passed ? 'passed' : 'failed'} \`${cell(last.command)}\``;
    const commit =
      task.commit === null
        ? '—'
        : `${task.commit.slice(0, 10)}${task.mergedVia === null ? '' : ` (via ${task.mergedVia})`}`;
    lines.push(
      `| ${task.id} ${cell(task.title)} | ${task.type} | ${task.status} | ${commit} | ${verification} |`,
    );
  }
  lines.push('', '## Verification of main', '');
  const verification = report.mainVerification;
  if (verification === null) lines.push('Not run.');
  else {
    lines.push(`Commit ${verification.commit}: ${verification.passed ? 'passed' : 'FAILED'}.`, '');
    for (const gate of verification.gates) {
      const counts =
        gate.tests === null
          ? 'no test counts found'
          : `${gate.tests.passed} passed, ${gate.tests.failed} failed, ${gate.tests.skipped} skipped (${gate.tests.framework})`;
      lines.push(`- \`${gate.command}\`: exit ${gate.exitCode ?? '?'}, ${counts}`);
    }
    if (verification.health !== null) {
      lines.push(
        `- health: \`${verification.health.startCommand}\` then GET ${verification.health.healthPath} → ${verification.health.statusCode ?? 'no answer'}`,
      );
    }
  }
  lines.push(...formatDeployment(report.deployment));
  lines.push('', '## Cost', '');
  lines.push(
    `Spent $${report.budget.spentUsd.toFixed(4)}${report.budget.capUsd === undefined ? ' (no cap)' : ` of a $${report.budget.capUsd} cap`}.`,
  );
  for (const [type, usd] of Object.entries(report.budget.byAgentType ?? {}))
    lines.push(`- ${type}: $${usd.toFixed(4)}`);
  const cost = report.gates.find((gate) => gate.gate === 'cost');
  if (cost !== undefined) lines.push('', `Cost gate: ${cost.verdict}: ${cost.reason}.`);
  lines.push('', ...formatEvidenceMarkdownSections(report));
  return lines.join('\n');
}

function formatDeployment(deployment: DeploymentResult | null): string[] {
  if (deployment === null) return [];
  const lines = ['', '## Deployment', ''];
  const where = deployment.url === null ? '' : ` at ${deployment.url}`;
  lines.push(
    `Release ${deployment.version} of ${deployment.commit.slice(0, 10)} (${deployment.target}, ${deployment.strategy}): ${deployment.status}${where}.${deployment.reason === null ? '' : ` ${deployment.reason}`}`,
    '',
  );
  for (const check of deployment.checks) lines.push(`- ${check.name}: ${check.verdict} — ${check.detail}`);
  return lines;
}
