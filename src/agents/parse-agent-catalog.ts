import { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { type AgentType, agentTypeSchema } from './agent-type.ts';

const agentCatalogSchema = z.array(agentTypeSchema).superRefine((agentTypes, issues) => {
  const seen = new Set<string>();
  agentTypes.forEach((agentType, index) => {
    if (seen.has(agentType.id)) {
      issues.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate id "${agentType.id}"` });
    }
    seen.add(agentType.id);
  });
});

/**
 * Validates catalog entries and freezes them. The catalog is code, so a bad entry is a bug in
 * Loki, not in the user's input: it fails loudly at module load (and therefore in every test)
 * instead of surfacing as a strange agent in the middle of a run.
 */
export function parseAgentCatalog(entries: readonly unknown[]): readonly AgentType[] {
  const result = agentCatalogSchema.safeParse(entries);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [index, ...rest] = issue.path;
      const entry = typeof index === 'number' ? entries[index] : undefined;
      const id =
        typeof entry === 'object' && entry !== null && 'id' in entry ? String(entry.id) : `#${String(index)}`;
      return `${id}${rest.length === 0 ? '' : `.${rest.join('.')}`}: ${issue.message}`;
    });
    throw new LokiError(`the agent catalog is invalid: ${problems.join('; ')}`, {
      code: 'AGENT_CATALOG_INVALID',
      category: 'internal',
      context: { problems },
    });
  }
  // Frozen because every caller shares these objects: one caller's edit would change all agents.
  return Object.freeze(
    result.data.map((agentType) =>
      Object.freeze({ ...agentType, tools: Object.freeze([...agentType.tools]) }),
    ),
  );
}
