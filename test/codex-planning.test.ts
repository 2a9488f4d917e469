/**
 * Planning phases on Codex: the real binary (through the Codex SDK) against the fake Responses API,
 * run through the codex agent source as `loki run` does. The phase's submission tool comes from
 * `loki mcp-tools`; Loki judges every call again and counts the repair rounds.
 */
import { singleAttempt } from './support/single-attempt.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/events/index.ts';
import { type AgentSource, createAgentSource } from '../src/orchestrator/index.ts';
import {
  type RequirementsDocument,
  runArchitecture,
  runDiscovery,
  runGrowthPlanning,
} from '../src/planning/index.ts';
import { PlainRunner } from '../src/sandbox/index.ts';
import { FakeCodexHome } from './fakes/codex-home.ts';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fakes/fake-openai-server.ts';
import { fakeReply } from './fakes/fake-reply.ts';
import { lokiToolsOffered, submissionCall } from './support/codex-session.ts';
import { requirement } from './support/requirement-fixture.ts';

const API_KEY = 'sk-openai-codex-planning-test';

const retry = singleAttempt('codex');

let logsDirectory: string;
let api: FakeOpenAIServer;
let codexHome: FakeCodexHome;
let source: AgentSource;

beforeEach(async () => {
  logsDirectory = await mkdtemp(join(tmpdir(), 'loki-codex-planning-'));
  api = await startFakeOpenAIServer({ expectedApiKey: API_KEY, defaultReply: fakeReply.text('Done.') });
  codexHome = new FakeCodexHome(api.baseUrl);
  source = createAgentSource({
    provider: 'codex',
    env: {
      PATH: process.env.PATH,
      HOME: codexHome.path,
      CODEX_HOME: codexHome.path,
      OPENAI_API_KEY: API_KEY,
    },
    runner: new PlainRunner(),
    logsDirectory,
    modelOverrides: {},
  });
});

afterEach(async () => {
  codexHome[Symbol.dispose]();
  await api.close();
  await rm(logsDirectory, { recursive: true, force: true });
});

/** What the model read back from each of its tool calls, in order (Codex sends text or text parts). */
function toolOutputsSeen(): string[] {
  const last = api.modelRequests().at(-1)?.body as { input?: { type?: string; output?: unknown }[] };
  return (last.input ?? [])
    .filter((item) => item.type === 'function_call_output')
    .map((item) =>
      typeof item.output === 'string'
        ? item.output
        : (item.output as { text?: string }[]).map((part) => part.text ?? '').join('\n'),
    );
}

const requirements: RequirementsDocument = {
  requirements: [requirement(1), requirement(2)],
  assumptions: [],
} as RequirementsDocument;

function architectureCovering(requirementIds: string[]) {
  return {
    notes: 'A plan.',
    techStack: [{ area: 'files', choice: 'plain text', reason: 'enough' }],
    openapi: null,
    verifyCommands: ['true'],
    deployment: null,
    tasks: requirementIds.map((id, index) => ({
      id: `task-${index + 1}`,
      agentType: 'eng-backend',
      title: `Deliver ${id}`,
      description: `Deliver ${id}.`,
      acceptanceCriteria: ['it exists'],
      requirementIds: [id],
      dependencies: [],
      priority: 5,
      complexity: 'simple',
      verifyCommands: ['true'],
      touches: [`files/${id}.txt`],
    })),
  };
}

describe('planning phases on Codex (real codex binary, fake Responses API)', () => {
  it('cannot write files, answers an invalid submission with its errors through loki mcp-tools, accepts the repair', async () => {
    api.enqueue(
      fakeReply.turn({
        toolCalls: [{ name: 'exec_command', input: { cmd: 'printf planted > planted.txt' } }],
      }),
      submissionCall('submit_requirements', { requirements: [{ id: 'REQ-9' }] }),
      submissionCall('submit_requirements', { requirements: [requirement(1)], assumptions: [] }),
      fakeReply.text('Submitted.'),
    );
    const events: NewEvent[] = [];
    const document = await runDiscovery({
      prdText: '# Todo\nA todo list.',
      emit: (event) => events.push(event),
      retry,
      runId: 'run-1',
      runSubmission: (spec, options) => source.runSubmission('discovery', spec, options),
    });
    expect(document.requirements.map((entry) => entry.id)).toEqual(['REQ-001']);

    // The read-only sandbox refused the write; the planner's directory stays empty.
    expect(existsSync(join(logsDirectory, 'codex-planning', 'session', 'planted.txt'))).toBe(false);
    const [write, invalid, accepted] = toolOutputsSeen();
    expect(write).not.toMatch(/exited with code 0/);
    expect(invalid).toContain('The submission is invalid');
    expect(accepted).toContain('accepted 1 requirements');
    // The planner was offered its phase's submission tool and no other Loki tool.
    for (const request of api.modelRequests().filter((entry) => lokiToolsOffered(entry).length > 0)) {
      expect(lokiToolsOffered(request)).toEqual(['submit_requirements']);
    }
    // Loki judged both submissions from the event stream. The refused write is not asserted there:
    // Codex sometimes leaves a command its sandbox denied early out of its JSON stream (a Codex bug).
    const called = events
      .filter((event) => event.type === 'agent.tool_called')
      .map((event) => (event.data as { toolName: string }).toolName)
      .filter((name) => name.startsWith('mcp:'));
    expect(called).toEqual(['mcp:loki/submit_requirements', 'mcp:loki/submit_requirements']);
  }, 120_000);

  it('checks an architecture against the requirements and fails the phase when the repair rounds run out', async () => {
    // Every call leaves REQ-002 uncovered.
    api.enqueue(
      submissionCall('submit_architecture', architectureCovering(['REQ-001'])),
      submissionCall('submit_architecture', architectureCovering(['REQ-001'])),
      submissionCall('submit_architecture', architectureCovering(['REQ-001'])),
      submissionCall('submit_architecture', architectureCovering(['REQ-001'])),
    );
    const architecture = runArchitecture({
      prdText: '# Todo\nA todo list.',
      requirements,
      emit: () => {},
      retry,
      runId: null,
      maxRepairRounds: 1,
      runSubmission: (spec, options) => source.runSubmission('architecture', spec, options),
    });
    await expect(architecture).rejects.toMatchObject({ code: 'ARCHITECTURE_INVALID_OUTPUT' });
    // The server in Codex's process checked against the same requirements as Loki.
    expect(toolOutputsSeen()[0]).toContain('requirement REQ-002 (Requirement 2) is not covered by any task');
  }, 120_000);

  it('runs a Growth iteration: a proposal reusing an existing task id is refused by the server, the repair accepted', async () => {
    const reused = architectureCovering(['REQ-001']).tasks;
    const renamed = reused.map((task) => ({ ...task, id: 'improve-docs' }));
    api.enqueue(
      submissionCall('submit_improvements', { rationale: 'More docs.', tasks: reused }),
      submissionCall('submit_improvements', { rationale: 'More docs.', tasks: renamed }),
      fakeReply.text('Proposed.'),
    );
    const tasks = await runGrowthPlanning({
      prdText: '# Todo\nA todo list.',
      requirements,
      iteration: 1,
      existingTasks: [{ id: 'task-1', title: 'Deliver REQ-001', status: 'done' }],
      emit: () => {},
      retry,
      runId: null,
      runSubmission: (spec, options) => source.runSubmission({ growthIteration: 1 }, spec, options),
    });
    expect(tasks.map((task) => task.id)).toEqual(['improve-docs']);
    const [refused, accepted] = toolOutputsSeen();
    expect(refused).toContain('"task-1" already exists; pick a new id');
    expect(accepted).toContain('accepted 1 improvement tasks');
    for (const request of api.modelRequests().filter((entry) => lokiToolsOffered(entry).length > 0)) {
      expect(lokiToolsOffered(request)).toEqual(['submit_improvements']);
    }
  }, 120_000);
});
