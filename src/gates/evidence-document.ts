import type { GateResult } from './gate.ts';
import type { ReviewFindingReport } from './review-findings.ts';
import type { RequirementTrace, Traceability } from './trace-requirements.ts';

/**
 * VERIFIED: nothing failed and nothing is left unproven. VERIFIED WITH GAPS: nothing failed, but
 * something is not proven (a requirement no passing test names, a gate that could not decide).
 * NOT VERIFIED: something failed, or the run did not finish.
 */
export type EvidenceHeadline = 'VERIFIED' | 'VERIFIED WITH GAPS' | 'NOT VERIFIED';

/** What every evidence report holds, for a run and for `loki verify` alike (JSON, Markdown, HTML). */
export interface EvidenceDocument {
  title: string;
  headline: EvidenceHeadline;
  exitCode: number;
  summary: string;
  generatedAt: string;
  /** "PRD proven: N/M (P %)"; null when there are no requirements to trace. */
  prd: Pick<Traceability, 'proven' | 'total' | 'percent'> | null;
  requirements: RequirementTrace[];
  gates: GateResult[];
  reviewFindings: ReviewFindingReport[];
  /** Everything not proven, each with why. */
  notProven: string[];
}

/** Exit codes of DESIGN.md § 5 that the evidence decides (the others are kept as they are). */
const EXIT_VERIFIED = 0;
const EXIT_NOT_VERIFIED = 3;

export function decideHeadline(input: {
  hasFailed: boolean;
  notProven: readonly string[];
}): EvidenceHeadline {
  if (input.hasFailed) return 'NOT VERIFIED';
  return input.notProven.length === 0 ? 'VERIFIED' : 'VERIFIED WITH GAPS';
}

/**
 * 0 only when VERIFIED; 3 when gaps remain. An ending with its own code (budget stop, blocked,
 * stalled, interrupted, error) keeps it: it says more than "not verified".
 */
export function evidenceExitCode(headline: EvidenceHeadline, endingExitCode: number = EXIT_VERIFIED): number {
  if (endingExitCode !== EXIT_VERIFIED && endingExitCode !== EXIT_NOT_VERIFIED) return endingExitCode;
  return headline === 'VERIFIED' ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
}

/** "PRD proven: 9/10 (90 %)", or that there was nothing to trace. */
export function describePrdCoverage(prd: EvidenceDocument['prd']): string {
  if (prd === null) return 'PRD proven: no requirements to trace';
  return `PRD proven: ${prd.proven}/${prd.total} (${prd.percent} %)`;
}

/** The gaps that gates and review leave: failed or undecided gates, and blocking findings left open. */
export function gapsOfGatesAndReview(
  gates: readonly GateResult[],
  findings: readonly ReviewFindingReport[],
): string[] {
  return [
    ...gates
      .filter((gate) => gate.verdict !== 'pass')
      .map((gate) => `gate ${gate.gate} is ${gate.verdict}: ${gate.reason}`),
    ...findings
      .filter((finding) => !finding.isResolved)
      .map(
        (finding) =>
          `${finding.severity} review finding on ${finding.taskId} (${finding.file}:${finding.line}) by ${finding.reviewer}: ${finding.resolution}`,
      ),
  ];
}

/** The requirements that nothing proves, each with why. */
export function gapsOfRequirements(requirements: readonly RequirementTrace[]): string[] {
  return requirements
    .filter((requirement) => !requirement.proven)
    .map((requirement) => `${requirement.id} (${requirement.title}): ${requirement.why}`);
}
