import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode, type LokiError } from '../errors/index.ts';
import {
  closeAgentTypeIds,
  findAgentType,
  findRolePromptDirectory,
  isAgentTypeId,
  readRolePrompt,
} from './index.ts';

function unknownTypeError(id: string): LokiError {
  try {
    findAgentType(id);
  } catch (error) {
    return error as LokiError;
  }
  throw new Error(`findAgentType("${id}") did not throw`);
}

describe('findAgentType', () => {
  it('returns the catalog entry for a known id', () => {
    expect(findAgentType('eng-backend')).toMatchObject({ id: 'eng-backend', swarm: 'engineering' });
    expect(isAgentTypeId('orchestrator')).toBe(true);
    expect(isAgentTypeId('eng-backnd')).toBe(false);
  });

  it('refuses an unknown id with exit 2, AGENT_TYPE_UNKNOWN and the close matches', () => {
    const error = unknownTypeError('eng-backnd');
    expect(error).toMatchObject({ code: 'AGENT_TYPE_UNKNOWN', category: 'user', exitCode: ExitCode.usage });
    expect(error.message).toBe(
      'unknown agent type "eng-backnd"; did you mean eng-backend? ("loki agents" lists all 38)',
    );
    expect(error.context).toEqual({ id: 'eng-backnd', suggestions: ['eng-backend'] });
  });

  it('suggests by role name, by part of an id, and by typo, best first', () => {
    expect(closeAgentTypeIds('backend')).toEqual(['eng-backend']);
    expect(closeAgentTypeIds('security')).toEqual(['ops-security', 'review-security']);
    expect(closeAgentTypeIds('techwriter')).toEqual(['prod-techwriter']);
    expect(closeAgentTypeIds('Eng-Frontend ')).toEqual(['eng-frontend']);
    expect(closeAgentTypeIds('review')).toEqual(['review-business', 'review-code', 'review-security']);
    expect(closeAgentTypeIds('orchestrater')).toEqual(['orchestrator']);
  });

  it('does not guess when nothing is close', () => {
    expect(closeAgentTypeIds('astronaut')).toEqual([]);
    expect(closeAgentTypeIds('a')).toEqual([]);
    expect(unknownTypeError('astronaut').message).toBe(
      'unknown agent type "astronaut"; run "loki agents" to list the 38 agent types',
    );
  });
});

describe('role prompt location', () => {
  it('reads the prompts from the source folder when the code runs from dist/', () => {
    const root = mkdtempSync(join(tmpdir(), 'loki-prompts-'));
    try {
      const distModule = pathToFileURL(join(root, 'dist', 'agents', 'read-role-prompt.js'));
      expect(() => findRolePromptDirectory(distModule)).toThrow(
        expect.objectContaining({ code: 'AGENT_PROMPTS_MISSING' }),
      );
      mkdirSync(join(root, 'src', 'agents', 'prompts'), { recursive: true });
      expect(fileURLToPath(findRolePromptDirectory(distModule))).toBe(
        join(root, 'src', 'agents', 'prompts') + '/',
      );
      // A prompts/ folder next to the module (source runs, or a build that copies them) wins.
      mkdirSync(join(root, 'dist', 'agents', 'prompts'), { recursive: true });
      expect(fileURLToPath(findRolePromptDirectory(distModule))).toBe(
        join(root, 'dist', 'agents', 'prompts') + '/',
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds this repository's prompts from where the build puts the module", () => {
    const builtModule = new URL('../../dist/agents/read-role-prompt.js', import.meta.url);
    expect(fileURLToPath(findRolePromptDirectory(builtModule))).toBe(
      fileURLToPath(new URL('./prompts/', import.meta.url)),
    );
  });

  it('refuses to read the prompt of an unknown agent type', () => {
    expect(() => readRolePrompt('eng-backnd')).toThrow(
      expect.objectContaining({ code: 'AGENT_TYPE_UNKNOWN' }),
    );
  });
});
