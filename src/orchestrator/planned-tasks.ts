/**
 * The plan on disk (specs a resumed run keeps) and in the queue (the tasks of each phase).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAcceptanceTasks } from '../acceptance/index.ts';
import { LokiError } from '../errors/index.ts';
import {
  ARCHITECTURE_JSON_FILE,
  type ArchitectureDocument,
  phaseOfTask,
  REQUIREMENTS_JSON_FILE,
  type RequirementsDocument,
  validateArchitecture,
  validateRequirements,
} from '../planning/index.ts';
import type { Task } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';

export function readValidRequirements(specsDirectory: string): RequirementsDocument | null {
  const document = readJson(join(specsDirectory, REQUIREMENTS_JSON_FILE));
  if (document === undefined) return null;
  const validation = validateRequirements(document);
  return validation.ok ? validation.requirements : null;
}

export function readValidArchitecture(
  specsDirectory: string,
  requirements: RequirementsDocument,
): ArchitectureDocument | null {
  const document = readJson(join(specsDirectory, ARCHITECTURE_JSON_FILE));
  if (document === undefined) return null;
  const validation = validateArchitecture(document, requirements.requirements);
  return validation.ok ? validation.architecture : null;
}

function readJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Adds the phase's planned tasks to the queue once: a resumed run finds them there and adds none.
 * With `sealAcceptanceTests`, each implementation task gets a QA task before it that writes its
 * sealed acceptance tests (src/acceptance).
 */
export async function enqueuePlannedTasks(
  workspace: Workspace,
  runId: string,
  plannedTasks: ArchitectureDocument['tasks'],
  maxAttempts: number,
  growthIteration?: number,
  sealAcceptanceTests = false,
): Promise<Task[]> {
  const planned = sealAcceptanceTests ? withAcceptanceTasks(plannedTasks) : plannedTasks;
  const existing = new Map((await workspace.queue.list()).map((task) => [task.id, task]));
  for (const task of planned) {
    const found = existing.get(task.id);
    if (found !== undefined && found.runId !== runId) {
      throw new LokiError(
        `task "${task.id}" already exists in this workspace from another run (${found.runId ?? 'added by hand'}); run the new plan in a fresh directory`,
        { code: 'RUN_TASK_ID_TAKEN', category: 'user', context: { taskId: task.id } },
      );
    }
  }
  const missing = planned.filter((task) => !existing.has(task.id));
  if (missing.length === 0) return [];
  return workspace.queue.enqueueMany(
    missing.map((task) => ({
      id: task.id,
      type: task.agentType,
      title: task.title,
      description: [
        task.description,
        '',
        'Acceptance criteria:',
        ...task.acceptanceCriteria.map((criterion) => `- ${criterion}`),
        '',
        `Requirements: ${task.requirementIds.join(', ') || 'none'}`,
        ...(task.touches.length === 0 ? [] : [`Expected to touch: ${task.touches.join(', ')}`]),
      ].join('\n'),
      priority: task.priority,
      dependencies: task.dependencies,
      runId,
      maxAttempts,
      idempotencyKey: `run:${runId}:task:${task.id}`,
      payload: {
        verifyCommands: task.verifyCommands,
        acceptanceCriteria: task.acceptanceCriteria,
        requirementIds: task.requirementIds,
        complexity: task.complexity,
        touches: task.touches,
        phase: phaseOfTask(task),
        ...('acceptanceFor' in task ? { acceptanceFor: task.acceptanceFor } : {}),
        ...(growthIteration === undefined ? {} : { growthIteration }),
      },
    })),
  );
}
