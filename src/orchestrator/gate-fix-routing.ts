import { isAgentTypeId } from '../agents/index.ts';
import type { GateResult } from '../gates/index.ts';

/** Who fixes a failed gate when no file decides it: the specialist of what the gate measures. */
const AGENT_TYPE_BY_GATE: Readonly<Record<string, string>> = {
  'unit-tests': 'eng-qa',
  coverage: 'eng-qa',
  'integration-tests': 'eng-qa',
  'e2e-tests': 'eng-qa',
  security: 'ops-security',
  audit: 'ops-security',
  legal: 'ops-compliance',
  performance: 'eng-perf',
  load: 'eng-perf',
  chaos: 'ops-sre',
  accessibility: 'eng-frontend',
};

/** Gates about code style and types: the engineer of the side of the code the errors are in. */
const CODE_GATES = new Set(['lint', 'types']);
const FALLBACK_AGENT_TYPE = 'eng-backend';
const FRONTEND_PATH =
  /[\w./-]+\.(?:tsx|jsx|vue|svelte|css|scss|html)\b|(?:^|[\s/'"(])(?:frontend|client|web|ui|public)\/[\w./-]+/g;
const SOURCE_PATH = /[\w./-]+\.(?:[cm]?[jt]s|py|go|rb|java|rs)\b/g;

/**
 * The agent type that fixes a failed gate: lint and type errors go to the frontend engineer when
 * most files they name are frontend code (components, styles, pages) and to the backend engineer
 * otherwise; every other gate to its specialist. A type the catalog lacks falls back to eng-backend.
 */
export function agentTypeForGate(result: GateResult): string {
  const type = CODE_GATES.has(result.gate)
    ? sideOfCode(`${result.evidence.outputExcerpt}\n${result.evidence.files.join('\n')}`)
    : (AGENT_TYPE_BY_GATE[result.gate] ?? FALLBACK_AGENT_TYPE);
  return isAgentTypeId(type) ? type : FALLBACK_AGENT_TYPE;
}

function sideOfCode(text: string): string {
  const frontend = text.match(FRONTEND_PATH)?.length ?? 0;
  const source = text.match(SOURCE_PATH)?.length ?? 0;
  return frontend > source - frontend ? 'eng-frontend' : 'eng-backend';
}
