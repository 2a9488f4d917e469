import { usageError } from '../errors/index.ts';
import {
  endToEndTestGate,
  integrationTestGate,
  lintGate,
  typeCheckGate,
  unitTestGate,
} from './command-gates.ts';
import { accessibilityGate } from './accessibility-gate.ts';
import { auditGate } from './audit-gate.ts';
import { chaosGate } from './chaos-gate.ts';
import { coverageGate } from './coverage-gate.ts';
import { legalGate } from './legal-gate.ts';
import { loadGate } from './load-gate.ts';
import { performanceGate } from './performance-gate.ts';
import { securityGate } from './security-gate.ts';
import type { Gate, GateContext, GateRecord, GateResult } from './gate.ts';

/** The gates that exist so far, in the order they run. */
export const ALL_GATES: readonly Gate[] = [
  unitTestGate,
  coverageGate,
  integrationTestGate,
  endToEndTestGate,
  lintGate,
  typeCheckGate,
  securityGate,
  auditGate,
  legalGate,
  // The app gates start the product; they come last, after the cheap checks of its code.
  performanceGate,
  loadGate,
  chaosGate,
  accessibilityGate,
];

export interface GateRun {
  /** VERIFIED: every gate passed; NOT VERIFIED: one failed; VERIFIED WITH GAPS: none failed, some not proven. */
  headline: 'VERIFIED' | 'VERIFIED WITH GAPS' | 'NOT VERIFIED';
  results: GateResult[];
}

/**
 * Runs the named gates (all when none is named) one after another: they share the project
 * directory, and a test run and a type check at once would fight over two cores for nothing.
 */
export async function runGates(
  context: Omit<GateContext, 'earlier' | 'startedAt'> & { now: () => number },
  names: readonly string[] = [],
  onResult?: (result: GateResult) => void,
): Promise<GateRun> {
  const unknown = names.filter((name) => !ALL_GATES.some((gate) => gate.name === name));
  if (unknown.length > 0) {
    throw usageError(
      'GATE_UNKNOWN',
      `unknown gate ${unknown.map((name) => `"${name}"`).join(', ')}; the gates are ${ALL_GATES.map((gate) => gate.name).join(', ')}`,
    );
  }
  const selected = names.length === 0 ? ALL_GATES : ALL_GATES.filter((gate) => names.includes(gate.name));
  const records: GateRecord[] = [];
  const startedAt = context.now();
  for (const gate of selected) {
    context.signal?.throwIfAborted();
    const record = await gate.run({ ...context, earlier: records, startedAt });
    records.push(record);
    onResult?.(record.result);
  }
  const results = records.map((record) => record.result);
  const headline = results.some((result) => result.verdict === 'fail')
    ? 'NOT VERIFIED'
    : results.every((result) => result.verdict === 'pass')
      ? 'VERIFIED'
      : 'VERIFIED WITH GAPS';
  return { headline, results };
}
