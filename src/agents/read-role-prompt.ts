import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LokiError } from '../errors/index.ts';
import { findAgentType } from './find-agent-type.ts';

/**
 * Where the role prompts are. They live as Markdown in src/agents/prompts/, next to this module
 * when it runs from source. tsc does not copy .md files, so the build in dist/agents/ reads them
 * from the source folder two levels up (the package ships src/agents/prompts for that reason).
 * A prompts/ folder next to the module, if a build ever adds one, wins.
 */
export function findRolePromptDirectory(moduleUrl: string | URL = import.meta.url): URL {
  const candidates = [new URL('./prompts/', moduleUrl), new URL('../../src/agents/prompts/', moduleUrl)];
  const directory = candidates.find((candidate) => existsSync(fileURLToPath(candidate)));
  if (directory === undefined) {
    const searched = candidates.map((candidate) => fileURLToPath(candidate));
    throw new LokiError(
      `the agent role prompts are missing (looked in ${searched.join(' and ')}); reinstall Loki Mode`,
      { code: 'AGENT_PROMPTS_MISSING', category: 'internal', context: { searched } },
    );
  }
  return directory;
}

/**
 * The role prompt of an agent type (Markdown, trimmed). Read from disk on every call: it is tiny
 * next to a model call, and an edited prompt takes effect without a restart.
 */
export function readRolePrompt(agentTypeId: string): string {
  const { id } = findAgentType(agentTypeId);
  const file = fileURLToPath(new URL(`${id}.md`, findRolePromptDirectory()));
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    throw new LokiError(`the role prompt of agent type "${id}" is missing (${file}); reinstall Loki Mode`, {
      code: 'AGENT_PROMPT_MISSING',
      category: 'internal',
      context: { id, file },
      cause: error,
    });
  }
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
