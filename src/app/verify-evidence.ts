import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decideHeadline,
  type EvidenceDocument,
  evidenceExitCode,
  gapsOfGatesAndReview,
  gapsOfRequirements,
  type GateRun,
  traceRequirements,
} from '../gates/index.ts';
import { REQUIREMENTS_JSON_FILE, type Requirement, validateRequirements } from '../planning/index.ts';
import { parseJsonOrNull } from '../text/index.ts';

/**
 * The evidence of `loki verify`: the gates' verdicts and, where the directory has Loki requirements
 * (`.loki/specs/requirements.json`), their traceability to the tests the unit, integration and
 * end-to-end gates ran and to the gates that cover them. A project not built by Loki has no
 * requirements: its headline rests on the gates alone.
 */
export function buildVerifyEvidence(
  projectDirectory: string,
  run: GateRun,
  generatedAt: string,
): EvidenceDocument {
  const requirements = readRequirements(projectDirectory);
  const traceability = traceRequirements({
    requirements,
    tests: run.results.flatMap((result) => result.evidence.testResults ?? []),
    gates: run.results,
    tasks: [],
  });
  const notProven = [
    ...gapsOfRequirements(traceability.requirements),
    ...gapsOfGatesAndReview(run.results, []),
  ];
  const headline = decideHeadline({
    hasFailed: run.results.some((result) => result.verdict === 'fail'),
    notProven,
  });
  const failed = run.results.filter((result) => result.verdict === 'fail').length;
  return {
    title: `loki verify ${projectDirectory}`,
    headline,
    exitCode: evidenceExitCode(headline),
    summary: `${run.results.length} gate(s): ${run.results.filter((result) => result.verdict === 'pass').length} passed, ${failed} failed, ${run.results.filter((result) => result.verdict === 'not-proven').length} not proven`,
    generatedAt,
    prd:
      requirements.length === 0
        ? null
        : { proven: traceability.proven, total: traceability.total, percent: traceability.percent },
    requirements: traceability.requirements,
    gates: run.results,
    reviewFindings: [],
    notProven,
  };
}

/** Loki's requirements of this directory; none when there are none, or they are not valid. */
function readRequirements(projectDirectory: string): Requirement[] {
  const path = join(projectDirectory, '.loki', 'specs', REQUIREMENTS_JSON_FILE);
  if (!existsSync(path)) return [];
  const validation = validateRequirements(parseJsonOrNull(readFileSync(path, 'utf8')));
  return validation.ok ? validation.requirements.requirements : [];
}
