import { editDistance } from '../text/index.ts';
import { usageError } from '../errors/index.ts';
import { AGENT_CATALOG } from './agent-catalog.ts';
import type { AgentType } from './agent-type.ts';

const MAX_SUGGESTIONS = 3;
/** Shorter fragments ("a", "en") are inside too many ids to mean any one of them. */
const MIN_PARTIAL_LENGTH = 3;

export function isAgentTypeId(id: string): boolean {
  return AGENT_CATALOG.some((agentType) => agentType.id === id);
}

/** The catalog entry for an id; an unknown id is a usage error (exit 2) that names close matches. */
export function findAgentType(id: string): AgentType {
  const agentType = AGENT_CATALOG.find((candidate) => candidate.id === id);
  if (agentType !== undefined) return agentType;
  const suggestions = closeAgentTypeIds(id);
  const advice =
    suggestions.length === 0
      ? `run "loki agents" to list the ${AGENT_CATALOG.length} agent types`
      : `did you mean ${suggestions.join(', ')}? ("loki agents" lists all ${AGENT_CATALOG.length})`;
  throw usageError('AGENT_TYPE_UNKNOWN', `unknown agent type "${id}"; ${advice}`, { id, suggestions });
}

/**
 * Ids a user probably meant: the role without its swarm prefix ("backend" → eng-backend), a
 * containing or contained id ("security" → ops-security, review-security), or a typo within a
 * third of the word. Best first.
 */
export function closeAgentTypeIds(input: string): string[] {
  const wanted = input.trim().toLowerCase();
  if (wanted === '') return [];
  const scored: Array<{ id: string; score: number }> = [];
  for (const { id } of AGENT_CATALOG) {
    const role = id.slice(id.indexOf('-') + 1);
    // Beyond a third of the word a "suggestion" is a guess that misleads more than it helps.
    const typo = Math.min(relativeDistance(wanted, id), relativeDistance(wanted, role));
    if (wanted === role) scored.push({ id, score: 0 });
    else if (wanted.length >= MIN_PARTIAL_LENGTH && (id.includes(wanted) || wanted.includes(id))) {
      scored.push({ id, score: 1 });
    } else if (typo <= 1 / 3) scored.push({ id, score: 1 + typo });
  }
  return scored
    .sort((left, right) => left.score - right.score || left.id.localeCompare(right.id))
    .slice(0, MAX_SUGGESTIONS)
    .map((match) => match.id);
}

/** Edits needed per character of the candidate: 0 is identical, 1 is nothing in common. */
function relativeDistance(input: string, candidate: string): number {
  return editDistance(input, candidate) / Math.max(candidate.length, 1);
}
