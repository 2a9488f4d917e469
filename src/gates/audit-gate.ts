import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';
import { notRun, runCommandGate } from './command-gates.ts';
import type { Gate } from './gate.ts';

/** Severities that fail the gate; moderate and below are reported. */
const BLOCKING_SEVERITIES = ['critical', 'high'] as const;

const auditReportSchema = z.looseObject({
  vulnerabilities: z.record(z.string(), z.looseObject({ severity: z.string() })),
  metadata: z.looseObject({
    vulnerabilities: z.looseObject({
      info: z.number(),
      low: z.number(),
      moderate: z.number(),
      high: z.number(),
      critical: z.number(),
    }),
    dependencies: z.looseObject({ total: z.number() }).optional(),
  }),
});
const auditFailureSchema = z.looseObject({ message: z.string() });

/**
 * Dependency audit: `npm audit` against the registry, through the sandbox's network policy (the
 * npm registry is on the default allow-list). High and critical advisories fail; without an
 * answer from the registry (offline, refused) the gate is not proven, never passed: npm's own
 * exit code cannot tell "no advisories" from "nobody was asked" on every version, so the answer's
 * JSON is what is judged.
 */
export const auditGate: Gate = {
  name: 'audit',
  description: 'no high or critical advisory for the dependencies (npm audit)',
  run: (context) => {
    const directory = context.projectDirectory;
    if (!existsSync(join(directory, 'package.json'))) {
      return Promise.resolve(
        notRun('audit', 'not applicable: only npm projects (package.json) are audited so far', []),
      );
    }
    const lockfile = ['package-lock.json', 'npm-shrinkwrap.json'].find((name) =>
      existsSync(join(directory, name)),
    );
    if (lockfile === undefined) {
      return Promise.resolve(
        notRun('audit', 'npm audit needs a lockfile: run npm install to write package-lock.json', [
          'package.json',
        ]),
      );
    }
    return runCommandGate(
      context,
      'audit',
      { command: 'npm audit --json --fetch-retries=0', foundIn: lockfile },
      {
        missing: '',
        needsNetwork: true,
        judge: (_result, output) => judgeAudit(output),
      },
    );
  },
};

function judgeAudit(output: string): { verdict: 'pass' | 'fail' | 'not-proven'; reason: string } {
  const json = parseJsonOrNull(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1));
  const report = auditReportSchema.safeParse(json);
  if (!report.success) {
    const failure = auditFailureSchema.safeParse(json);
    const why = failure.success ? failure.data.message : 'npm audit printed no report';
    return { verdict: 'not-proven', reason: `the registry gave no audit (offline or refused): ${why}` };
  }
  const counts = report.data.metadata.vulnerabilities;
  const blocking = Object.entries(report.data.vulnerabilities)
    .filter(([, entry]) => (BLOCKING_SEVERITIES as readonly string[]).includes(entry.severity))
    .map(([name, entry]) => `${name} (${entry.severity})`);
  const lesser = `${counts.moderate} moderate, ${counts.low} low`;
  const dependencies = report.data.metadata.dependencies?.total;
  const scope = dependencies === undefined ? '' : ` in ${dependencies} dependencies`;
  if (blocking.length > 0) {
    return {
      verdict: 'fail',
      reason: `${counts.critical} critical and ${counts.high} high advisories${scope}: ${blocking.slice(0, 5).join(', ')}${blocking.length > 5 ? ', …' : ''}`,
    };
  }
  return { verdict: 'pass', reason: `no high or critical advisory${scope} (${lesser})` };
}
