import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_TOOLS, toolsForNames } from '../tools/index.ts';
import {
  AGENT_CATALOG,
  AGENT_SWARMS,
  type AgentType,
  findRolePromptDirectory,
  parseAgentCatalog,
  readRolePrompt,
} from './index.ts';

/** The ids the seed defines, by swarm; the catalog must be exactly these. */
const EXPECTED_IDS_BY_SWARM: Record<string, string[]> = {
  engineering: [
    'eng-frontend',
    'eng-backend',
    'eng-database',
    'eng-mobile',
    'eng-api',
    'eng-qa',
    'eng-perf',
    'eng-infra',
  ],
  operations: [
    'ops-devops',
    'ops-sre',
    'ops-security',
    'ops-monitor',
    'ops-incident',
    'ops-release',
    'ops-cost',
    'ops-compliance',
  ],
  business: [
    'biz-marketing',
    'biz-sales',
    'biz-finance',
    'biz-legal',
    'biz-support',
    'biz-hr',
    'biz-investor',
    'biz-partnerships',
  ],
  data: ['data-ml', 'data-eng', 'data-analytics'],
  product: ['prod-pm', 'prod-design', 'prod-techwriter'],
  growth: ['growth-hacker', 'growth-community', 'growth-success', 'growth-lifecycle'],
  review: ['review-code', 'review-business', 'review-security'],
  orchestration: ['orchestrator'],
};
const SEED_SWARMS = ['engineering', 'operations', 'business', 'data', 'product', 'growth'];
const WRITE_TOOLS = ['write_file', 'edit_file', 'run_command'];
const PROMPT_SECTIONS = [
  '## You are responsible for',
  '## Good output',
  '## Before you call task_complete',
  '## Never',
];

function idsOf(swarm: string): string[] {
  return AGENT_CATALOG.filter((agentType) => agentType.swarm === swarm).map((agentType) => agentType.id);
}

function validEntry(overrides: Partial<Record<keyof AgentType, unknown>> = {}): Record<string, unknown> {
  return {
    id: 'eng-example',
    swarm: 'engineering',
    title: 'Example engineer',
    purpose: 'Exists only so that the validation tests have a valid entry to break.',
    defaultTier: 'default',
    tools: ['read_file', 'task_complete'],
    ...overrides,
  };
}

describe('the agent catalog', () => {
  it("holds the seed's 37 types (34 in six swarms plus 3 reviewers) and the orchestrator, ids unique", () => {
    const ids = AGENT_CATALOG.map((agentType) => agentType.id);
    expect(ids).toHaveLength(38);
    expect(new Set(ids).size).toBe(ids.length);
    for (const swarm of AGENT_SWARMS) expect(idsOf(swarm), swarm).toEqual(EXPECTED_IDS_BY_SWARM[swarm]);
    expect(SEED_SWARMS.flatMap(idsOf)).toHaveLength(34);
    expect(SEED_SWARMS.map((swarm) => idsOf(swarm).length)).toEqual([8, 8, 8, 3, 3, 4]);
  });

  it('offers every agent only real tools, task_complete included', () => {
    const toolNames = ALL_TOOLS.map((tool) => tool.name);
    for (const agentType of AGENT_CATALOG) {
      expect(
        toolsForNames(agentType.tools).map((tool) => tool.name),
        agentType.id,
      ).toEqual(agentType.tools);
      expect(agentType.tools, agentType.id).toContain('task_complete');
      // Offered in ALL_TOOLS order, so every agent sees its tools in the same order.
      const positions = agentType.tools.map((name) => toolNames.indexOf(name));
      expect(positions, agentType.id).toEqual([...positions].sort((left, right) => left - right));
    }
  });

  it('keeps reviewers and the orchestrator read-only and business agents without a shell', () => {
    for (const agentType of AGENT_CATALOG.filter(
      (candidate) => candidate.swarm === 'review' || candidate.swarm === 'orchestration',
    )) {
      for (const tool of WRITE_TOOLS) expect(agentType.tools, agentType.id).not.toContain(tool);
      expect(agentType.tools, agentType.id).toEqual(expect.arrayContaining(['read_file', 'git_diff']));
    }
    for (const id of idsOf('business')) {
      const agentType = AGENT_CATALOG.find((candidate) => candidate.id === id);
      expect(agentType?.tools, id).not.toContain('run_command');
      expect(agentType?.tools, id).toContain('write_file');
    }
    for (const id of idsOf('engineering')) {
      expect(AGENT_CATALOG.find((candidate) => candidate.id === id)?.tools, id).toContain('run_command');
    }
  });

  it('puts security and planning roles on the planning tier and docs and tests on the fast tier', () => {
    const tierOf = (id: string) => AGENT_CATALOG.find((agentType) => agentType.id === id)?.defaultTier;
    for (const id of ['ops-security', 'review-security', 'orchestrator'])
      expect(tierOf(id), id).toBe('planning');
    for (const id of ['prod-techwriter', 'eng-qa', 'biz-support']) expect(tierOf(id), id).toBe('fast');
    for (const id of ['eng-backend', 'eng-frontend', 'review-code']) expect(tierOf(id), id).toBe('default');
  });

  it('is frozen, so no caller can change an agent for everyone', () => {
    const first = AGENT_CATALOG[0];
    expect(Object.isFrozen(AGENT_CATALOG)).toBe(true);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.tools)).toBe(true);
  });

  it('rejects bad entries with the agent id and the problem', () => {
    const cases: Array<[Record<string, unknown>[], RegExp]> = [
      [
        [validEntry({ tools: ['read_file', 'delete_everything', 'task_complete'] })],
        /eng-example\.tools\.1: unknown tool/,
      ],
      [[validEntry({ tools: ['read_file'] })], /eng-example\.tools: must include task_complete/],
      [[validEntry({ tools: ['read_file', 'read_file', 'task_complete'] })], /lists a tool twice/],
      [[validEntry({ defaultTier: 'genius' })], /eng-example\.defaultTier/],
      [[validEntry({ swarm: 'business' })], /needs an id starting with "biz-"/],
      [[validEntry({ id: 'Eng_Example' })], /must be kebab-case/],
      [[validEntry({ purpose: 'two\nlines of purpose, which is one too many' })], /must be one line/],
      [[validEntry(), validEntry()], /duplicate id "eng-example"/],
      [[{ ...validEntry(), extra: true }], /eng-example: Unrecognized key/],
    ];
    expect(parseAgentCatalog([validEntry()])).toHaveLength(1);
    for (const [entries, message] of cases) {
      expect(() => parseAgentCatalog(entries), String(message)).toThrow(message);
      expect(() => parseAgentCatalog(entries)).toThrow(
        expect.objectContaining({ code: 'AGENT_CATALOG_INVALID' }),
      );
    }
  });
});

describe('the role prompts', () => {
  const promptDirectory = findRolePromptDirectory();
  const promptFiles = readdirSync(promptDirectory).filter((file) => file.endsWith('.md'));

  it('exist for every catalog id, and every prompt file belongs to a catalog id', () => {
    expect(fileURLToPath(promptDirectory)).toBe(fileURLToPath(new URL('./prompts/', import.meta.url)));
    expect(promptFiles.map((file) => file.replace(/\.md$/, '')).sort()).toEqual(
      AGENT_CATALOG.map((agentType) => agentType.id).sort(),
    );
    expect(readdirSync(promptDirectory).filter((file) => !file.endsWith('.md'))).toEqual([]);
  });

  it('are concise, specific and shaped the same way', () => {
    for (const agentType of AGENT_CATALOG) {
      const prompt = readRolePrompt(agentType.id);
      const lines = prompt.split('\n');
      expect(lines.length, agentType.id).toBeGreaterThanOrEqual(15);
      expect(lines.length, agentType.id).toBeLessThanOrEqual(40);
      expect(lines[0], agentType.id).toBe(`# ${agentType.title} (\`${agentType.id}\`)`);
      const sectionPositions = PROMPT_SECTIONS.map((section) => lines.indexOf(section));
      expect(
        sectionPositions.every((position) => position > 0),
        agentType.id,
      ).toBe(true);
      expect(sectionPositions, agentType.id).toEqual(
        [...sectionPositions].sort((left, right) => left - right),
      );
      for (const line of lines) expect(line.length, `${agentType.id}: ${line}`).toBeLessThanOrEqual(110);
    }
  });

  it('tell agents without a shell that they have none, and only them', () => {
    for (const agentType of AGENT_CATALOG) {
      const prompt = readRolePrompt(agentType.id).replace(/\s+/g, ' ');
      const saysNoShell = /\(no shell\)|you have no shell|read-only/i.test(prompt);
      expect(saysNoShell, agentType.id).toBe(!agentType.tools.includes('run_command'));
    }
  });

  it('are written per role, not assembled from shared filler', () => {
    const promptsByLine = new Map<string, Set<string>>();
    for (const agentType of AGENT_CATALOG) {
      for (const line of readRolePrompt(agentType.id).split('\n')) {
        const text = line.trim();
        if (text === '' || text.startsWith('#')) continue;
        promptsByLine.set(text, (promptsByLine.get(text) ?? new Set()).add(agentType.id));
      }
    }
    // The three reviewers share a few rules on purpose; nothing else may repeat across roles.
    const widelyShared = [...promptsByLine].filter(([, ids]) => ids.size > 3).map(([line]) => line);
    expect(widelyShared).toEqual([]);
  });

  it('are read from the Markdown files as written, trimmed', () => {
    const file = new URL('eng-backend.md', promptDirectory);
    expect(readRolePrompt('eng-backend')).toBe(readFileSync(file, 'utf8').trim());
  });
});
