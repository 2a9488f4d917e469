import { describeCounts, type GateResult as QualityGateResult } from '../gates/index.ts';
import type { DeliveryPhase } from '../planning/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { SchedulerResult } from './scheduler.ts';
import { agentTypeForGate } from './gate-fix-routing.ts';
import type { MainVerification } from './verify-main.ts';

export const DEFAULT_MAIN_FIX_ROUNDS = 2;
const EVIDENCE_CHARACTERS = 3_000;

export interface MainFixRoundsOptions {
  phase: Extract<DeliveryPhase, 'qa' | 'deployment'>;
  workspace: Workspace;
  runId: string;
  /** Fix rounds in this phase over the whole run (a resumed run counts the earlier ones). */
  maxRounds: number;
  maxTaskAttempts: number;
  /** The project's gates: what a fix task must pass, like main. */
  gates: readonly string[];
  /** The harness's verification of main as it is now. */
  verify: () => Promise<MainVerification>;
  /** Runs the queue until the run's open tasks (the fix task among them) are done. */
  runScheduler: () => Promise<SchedulerResult>;
}

export type MainFixOutcome =
  | { outcome: 'verified'; verification: MainVerification; rounds: number }
  /** Every round was used and main is still red. */
  | { outcome: 'red'; verification: MainVerification; rounds: number }
  /** A round's scheduler ended otherwise (stopped, budget, blocked, stalled): the pipeline says why. */
  | { outcome: 'interrupted'; result: Exclude<SchedulerResult, { outcome: 'done' }> };

/**
 * A red main found at QA (its gates) or Deployment (also its health check) becomes fix work instead
 * of ending the run: fix tasks `<phase>-fix-<n>` (and `<phase>-fix-<n>-<agent type>` when a round
 * needs several agent types) with the failing evidence in their description, which must pass the
 * project's gates themselves and go through the normal queue and merge path; then main is verified
 * again. At most `maxRounds` rounds per phase; then the run ends not verified.
 */
export async function verifyMainWithFixRounds(options: MainFixRoundsOptions): Promise<MainFixOutcome> {
  const { workspace, phase } = options;
  let verification = await options.verify();
  const prefix = `${phase}-fix-`;
  const existing = new Set(
    (await workspace.queue.list())
      .filter((task) => task.runId === options.runId && task.id.startsWith(prefix))
      .map((task) => task.id),
  );
  // A round may hold several fix tasks (one per agent type): rounds are counted by their number.
  let rounds = new Set([...existing].map((id) => /^\d+/.exec(id.slice(prefix.length))?.[0])).size;
  while (!verification.passed && rounds < options.maxRounds) {
    rounds += 1;
    let round = rounds;
    while (existing.has(`${prefix}${round}`)) round += 1;
    const fixes = fixWorkFor(verification, options.gates);
    for (const [index, fix] of fixes.entries()) {
      const id = index === 0 ? `${prefix}${round}` : `${prefix}${round}-${fix.type}`;
      existing.add(id);
      await workspace.queue.enqueue({
        id,
        type: fix.type,
        title: fix.title(phase),
        description: fix.description,
        priority: 9,
        runId: options.runId,
        maxAttempts: options.maxTaskAttempts,
        payload: {
          verifyCommands: fix.verifyCommands,
          acceptanceCriteria: [fix.criterion],
          requirementIds: [],
          touches: [],
          phase,
        },
      });
    }
    const result = await options.runScheduler();
    if (result.outcome !== 'done') return { outcome: 'interrupted', result };
    verification = await options.verify();
  }
  return verification.passed
    ? { outcome: 'verified', verification, rounds }
    : { outcome: 'red', verification, rounds };
}

interface FixWork {
  type: string;
  title: (phase: MainFixRoundsOptions['phase']) => string;
  description: string;
  verifyCommands: string[];
  criterion: string;
}

/**
 * The fix work a red main needs: the project's commands and the health check go to a backend
 * engineer (as one task); the failed blocking quality gates to the agent type each one needs
 * (see agentTypeForGate), one task per type, each with the evidence of its gates.
 */
function fixWorkFor(verification: MainVerification, projectGates: readonly string[]): FixWork[] {
  const work: FixWork[] = [];
  const commandFailures = describeRedCommands(verification);
  if (commandFailures.length > 0) {
    work.push({
      type: 'eng-backend',
      title: (phase) => `Make main pass its ${phase === 'qa' ? 'gates' : 'gates and health check'} again`,
      description: [INSTRUCTIONS, '', ...commandFailures].join('\n'),
      verifyCommands: [...projectGates],
      criterion: "every project gate passes on main's checkout",
    });
  }
  const failed = verification.qualityGates.filter((result) =>
    verification.blockingGates.includes(result.gate),
  );
  const byType = new Map<string, QualityGateResult[]>();
  for (const result of failed) {
    const type = agentTypeForGate(result);
    byType.set(type, [...(byType.get(type) ?? []), result]);
  }
  for (const [type, results] of byType) {
    const names = results.map((result) => result.gate);
    work.push({
      type,
      title: () => `Make main pass the ${names.join(', ')} gate${names.length > 1 ? 's' : ''}`,
      description: [
        INSTRUCTIONS,
        '',
        ...results.map((result) => describeFailedGate(result, verification.commit)),
      ].join('\n'),
      verifyCommands: [
        ...new Set([
          ...projectGates,
          ...results.flatMap((result) => (result.evidence.command === null ? [] : [result.evidence.command])),
        ]),
      ],
      criterion: `the ${names.join(', ')} gate${names.length > 1 ? 's pass' : ' passes'} on main's checkout`,
    });
  }
  return work;
}

const INSTRUCTIONS =
  "The harness verified main on a fresh checkout and it is red. Find the cause in main's code and fix it; do not weaken or delete tests.";

/** What failed among the project's commands and the health check, with the output the harness saw. */
function describeRedCommands(verification: MainVerification): string[] {
  const failures = verification.gates
    .filter((gate) => !gate.passed)
    .map(
      (gate) =>
        `Gate \`${gate.command}\` failed (exit ${gate.exitCode ?? '?'}) on main (${verification.commit}):\n${gate.outputTail.slice(-EVIDENCE_CHARACTERS)}`,
    );
  const health = verification.health;
  if (health !== null && !health.passed) {
    failures.push(
      `The health check failed: \`${health.startCommand}\` then GET ${health.healthPath} answered ${health.statusCode ?? 'nothing'}:\n${health.outputTail.slice(-EVIDENCE_CHARACTERS)}`,
    );
  }
  return failures;
}

/** A failed quality gate's evidence: its reason, command, counts, files and output. */
function describeFailedGate(result: QualityGateResult, commit: string): string {
  const { evidence } = result;
  return [
    `The ${result.gate} gate failed on main (${commit}): ${result.reason}`,
    ...(evidence.command === null
      ? []
      : [`command: \`${evidence.command}\` (exit ${evidence.exitCode ?? '?'})`]),
    ...(evidence.counts === null ? [] : [`tests: ${describeCounts(evidence.counts)}`]),
    ...(evidence.files.length === 0 ? [] : [`files: ${evidence.files.join(', ')}`]),
    ...(evidence.outputExcerpt === ''
      ? []
      : [`output:\n${evidence.outputExcerpt.slice(-EVIDENCE_CHARACTERS)}`]),
  ].join('\n');
}
