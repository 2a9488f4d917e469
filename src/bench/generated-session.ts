import type { ScriptedSessionInput } from '../providers/index.ts';

/** One planned task of a generated session: what its agent writes and how the harness verifies it. */
export interface SessionTask {
  id: string;
  agentType?: string;
  dependencies?: string[];
  phase?: 'infrastructure' | 'development' | 'qa' | 'deployment' | 'business';
  /** Files the agent writes (path → content). */
  files: Record<string, string>;
  verifyCommands?: string[];
  /** Replaces the generated script, e.g. to make a task fail. */
  steps?: unknown[];
}

export interface SessionSpec {
  tasks: SessionTask[];
  latencyMilliseconds?: number;
  verifyCommands?: string[];
  deployment?: { startCommand: string; healthPath: string } | null;
}

/**
 * A scripted session for `loki run` built from a short description: one requirement per task,
 * Discovery and Architecture that submit them, and one agent per task that writes its files and
 * calls task_complete. Used by the end-to-end tests and the orchestration benchmark.
 */
export function buildSession(spec: SessionSpec): ScriptedSessionInput {
  const requirements = spec.tasks.map((task, index) => ({
    id: `REQ-${String(index + 1).padStart(3, '0')}`,
    title: `Deliver ${task.id}`,
    description: `The product contains the work of ${task.id}.`,
    acceptanceCriteria: [`the files of ${task.id} exist on main`],
    kind: 'functional',
    priority: 'must',
  }));
  const architecture = {
    notes: 'Generated plan for a test session.',
    techStack: [{ area: 'files', choice: 'plain text', reason: 'enough for a test' }],
    openapi: null,
    // The session's own commands first, then tests named after the requirements: a generated
    // session models an agent that names its tests, so a run that merges every task is VERIFIED.
    verifyCommands: [...(spec.verifyCommands ?? []), namedFileChecks(spec.tasks, requirements)],
    deployment: spec.deployment ?? null,
    tasks: spec.tasks.map((task, index) => ({
      id: task.id,
      agentType: task.agentType ?? 'eng-backend',
      title: `Write ${task.id}`,
      description: `Write the files of ${task.id}.`,
      acceptanceCriteria: [`${Object.keys(task.files).join(', ')} exist`],
      requirementIds: [requirements[index]?.id ?? 'REQ-001'],
      dependencies: task.dependencies ?? [],
      priority: 5,
      complexity: 'simple',
      verifyCommands:
        task.verifyCommands ?? Object.keys(task.files).map((path) => `test -f '${path.replace(/'/g, '')}'`),
      touches: Object.keys(task.files),
      ...(task.phase === undefined ? {} : { phase: task.phase }),
    })),
  };
  const tasks: Record<string, unknown[]> = {};
  for (const task of spec.tasks) {
    tasks[task.id] = task.steps ?? [
      {
        toolCalls: Object.entries(task.files).map(([path, content]) => ({
          toolName: 'write_file',
          input: { path, content },
        })),
      },
      {
        toolCalls: [
          {
            toolName: 'task_complete',
            input: { summary: `wrote ${task.id}`, files_changed: Object.keys(task.files), tests_run: [] },
          },
        ],
      },
    ];
  }
  return {
    description: 'generated test session',
    latencyMilliseconds: spec.latencyMilliseconds ?? 0,
    discovery: [
      { toolCalls: [{ toolName: 'submit_requirements', input: { requirements, assumptions: [] } }] },
    ],
    architecture: [{ toolCalls: [{ toolName: 'submit_architecture', input: architecture }] }],
    tasks,
  } as ScriptedSessionInput;
}

/**
 * The project check every generated session ends with: for each task, whether its files exist,
 * reported as TAP tests named after the task's requirement (`ok 1 - REQ-001 …`), as a real
 * project's tests that name what they prove. A task whose files are not there yet has its test
 * skipped (`# SKIP`), as a project skips the tests of work still to come: the check passes on a
 * task's branch before the other tasks are merged, and on main a skipped test proves nothing, so
 * the run's traceability lists that requirement as not proven.
 */
function namedFileChecks(tasks: readonly SessionTask[], requirements: readonly { id: string }[]): string {
  const quote = (text: string) => `'${text.replace(/'/g, '')}'`;
  const checks = tasks.map((task, index) => {
    const name = quote(`${requirements[index]?.id ?? 'REQ-001'} the files of ${task.id} exist`);
    const files = Object.keys(task.files);
    const condition =
      files.length === 0 ? 'true' : files.map((path) => `test -f ${quote(path)}`).join(' && ');
    return `echo "# Subtest: "${name}; if ${condition}; then echo "ok ${index + 1} - "${name}; else echo "ok ${index + 1} - "${name}" # SKIP not written yet"; s=$((s+1)); fi`;
  });
  return [
    's=0',
    ...checks,
    `echo "# pass $((${tasks.length}-s))"`,
    'echo "# fail 0"',
    'echo "# skipped $s"',
  ].join('; ');
}
