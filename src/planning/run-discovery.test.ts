import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.ts';
import type { NewEvent } from '../events/index.ts';
import {
  classifyModelFailure,
  createScriptedLanguageModel,
  type ScriptedScriptInput,
} from '../providers/index.ts';
import type { RequirementsDocument } from './requirements-schema.ts';
import { runDiscovery } from './run-discovery.ts';
import { runSubmissionAgent } from './run-submission-agent.ts';
import { writeRequirementsSpecs } from './write-requirements-specs.ts';
import { requirement } from '../../test/support/requirement-fixture.ts';

const validDocument = {
  requirements: [requirement(1), requirement(2, { kind: 'non-functional', priority: 'should' })],
  assumptions: ['one user at a time'],
};

const submit = (input: Record<string, unknown>) => ({
  toolCalls: [{ toolName: 'submit_requirements', input }],
});

function setup(script: ScriptedScriptInput, maxRepairRounds?: number) {
  const events: NewEvent[] = [];
  const model = createScriptedLanguageModel(script);
  const clock = new ManualClock();
  const prompts: unknown[] = [];
  const toolNames: string[][] = [];
  const originalDoStream = model.doStream.bind(model);
  model.doStream = async (callOptions) => {
    prompts.push(structuredClone(callOptions.prompt));
    toolNames.push((callOptions.tools ?? []).map((tool) => tool.name));
    return originalDoStream(callOptions);
  };
  const run = () =>
    runDiscovery({
      runSubmission: (spec, runOptions) =>
        runSubmissionAgent(spec, { ...runOptions, model, provider: 'scripted' }),
      prdText: '# Todo app\nA small todo list.',
      emit: (event) => events.push(event),
      retry: {
        settings: { maxRetries: 0, baseWaitMilliseconds: 1000, maxWaitMilliseconds: 1000 },
        classify: (error) => classifyModelFailure(error, { clock }),
        breakers: [],
        random: () => 0,
        clock,
        sleep: async () => {},
      },
      runId: 'run-1',
      ...(maxRepairRounds === undefined ? {} : { maxRepairRounds }),
    });
  return { run, events, prompts, toolNames };
}

/** The text of the tool results the model was sent, in order. */
function toolResultsSeen(prompts: unknown[]): string[] {
  const last = prompts.at(-1) as Array<{ role: string; content: Array<{ output?: { value: string } }> }>;
  return last
    .filter((message) => message.role === 'tool')
    .flatMap((message) => message.content.map((part) => part.output?.value ?? ''));
}

describe('runDiscovery', () => {
  it('returns valid requirements submitted at the first attempt', async () => {
    const { run, events, prompts, toolNames } = setup([submit(validDocument)]);
    const requirements = await run();
    expect(requirements.requirements.map((item) => item.id)).toEqual(['REQ-001', 'REQ-002']);
    expect(requirements.assumptions).toEqual(['one user at a time']);
    expect(prompts).toHaveLength(1);
    expect(toolNames).toEqual([['submit_requirements']]);
    expect(JSON.stringify(prompts[0])).toContain('A small todo list.');
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished', data: { reason: 'task_complete' } });
  });

  it('sends the validation errors back and accepts the repaired requirements', async () => {
    const { run, prompts } = setup([
      submit({ requirements: [requirement(1), requirement(3, { acceptanceCriteria: [] })], assumptions: [] }),
      submit(validDocument),
    ]);
    const requirements = await run();
    expect(requirements.requirements).toHaveLength(2);
    expect(prompts).toHaveLength(2);
    const [feedback] = toolResultsSeen(prompts);
    expect(feedback).toContain('requirements[1].id: expected REQ-002, got REQ-003');
    expect(feedback).toContain('requirements[1].acceptanceCriteria: needs at least one acceptance criterion');
    expect(feedback).toContain('call submit_requirements again');
  });

  it('fails with DISCOVERY_INVALID_OUTPUT after the repair rounds run out', async () => {
    const { run, prompts, events } = setup([
      submit({ requirements: [requirement(2)], assumptions: [] }),
      submit({ requirements: [requirement(1, { kind: 'other' })], assumptions: [] }),
      submit({ requirements: [requirement(1, { title: '' })], assumptions: [] }),
      submit(validDocument),
    ]);
    await expect(run()).rejects.toMatchObject({
      code: 'DISCOVERY_INVALID_OUTPUT',
      message: expect.stringContaining('requirements[0].title: must not be empty'),
      context: { invalidSubmissions: 3 },
    });
    // Two repair rounds, then no further model call.
    expect(prompts).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'agent.finished' });
  });

  it('honours a smaller maxRepairRounds', async () => {
    const { run, prompts } = setup([submit({ requirements: [], assumptions: [] }), submit(validDocument)], 0);
    await expect(run()).rejects.toMatchObject({ code: 'DISCOVERY_INVALID_OUTPUT' });
    expect(prompts).toHaveLength(1);
  });
});

describe('writeRequirementsSpecs', () => {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  it('writes requirements.json and a readable requirements.md, creating the directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'loki-specs-'));
    directories.push(root);
    const specsDirectory = join(root, '.loki', 'specs');
    const document = validDocument as RequirementsDocument;
    const { jsonPath, markdownPath } = writeRequirementsSpecs(specsDirectory, document);
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toEqual(document);
    const markdown = readFileSync(markdownPath, 'utf8');
    expect(markdown).toContain('## REQ-001: Requirement 1');
    expect(markdown).toContain('- Kind: non-functional');
    expect(markdown).toContain('- [ ] thing 2 can be observed');
    expect(markdown).toContain('## Assumptions\n\n- one user at a time');
    expect(readdirSync(specsDirectory).sort()).toEqual(['requirements.json', 'requirements.md']);
  });
});
