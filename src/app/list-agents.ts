import { AGENT_CATALOG, isAgentTypeId } from '../agents/index.ts';
import { isLokiError } from '../errors/index.ts';
import type { Task } from '../store/index.ts';
import type { Workspace } from '../workspace/index.ts';
import type { AppContext } from './app-context.ts';
import { openAppWorkspace } from './open-app-workspace.ts';

export interface AgentTypeJson {
  id: string;
  swarm: string;
  title: string;
  purpose: string;
  tier: string;
  tools: string[];
}

export interface InstanceTaskJson {
  id: string;
  type: string;
  /** False for a task whose type is not in the catalog (e.g. added by hand with a typo). */
  isKnownType: boolean;
  title: string;
  /** When the worker claimed the task (ISO 8601). */
  since: string | null;
  leaseExpiresAt: string | null;
  /** The worker stopped renewing its lease; the next claim returns the task to the queue. */
  isLeaseExpired: boolean;
}

/** One live agent: a worker holding leases, with the tasks it is working on (normally one). */
export interface AgentInstanceJson {
  worker: string;
  tasks: InstanceTaskJson[];
}

export interface AgentsJson {
  /** The workspace the instances come from, or null when the command ran outside one. */
  workspace: string | null;
  types: AgentTypeJson[];
  instances: AgentInstanceJson[];
}

/**
 * The agent types of the catalog and the agents working in the workspace now (workers holding
 * leases, with their tasks). Read-only, like the status: listing agents never changes the store.
 */
export async function listAgents(context: AppContext): Promise<AgentsJson> {
  const workspace = await openWorkspaceIfPresent(context);
  if (workspace === null) return { workspace: null, types: agentTypes(), instances: [] };
  await using openedWorkspace = workspace;
  return listAgentsOf(openedWorkspace, context.clock.now());
}

/** listAgents on a workspace the caller holds open (the dashboard reads through one connection). */
export async function listAgentsOf(workspace: Workspace, now: number): Promise<AgentsJson> {
  const tasks = await workspace.store.listTasks({ statuses: ['in_progress'] });
  return { workspace: workspace.paths.root, types: agentTypes(), instances: groupByWorker(tasks, now) };
}

function agentTypes(): AgentTypeJson[] {
  return AGENT_CATALOG.map((agentType) => ({
    id: agentType.id,
    swarm: agentType.swarm,
    title: agentType.title,
    purpose: agentType.purpose,
    tier: agentType.defaultTier,
    tools: [...agentType.tools],
  }));
}

/**
 * The catalog is useful before `loki init` too, so a missing workspace is not an error here: the
 * command shows the catalog and says there are no live instances to show.
 */
async function openWorkspaceIfPresent(context: AppContext): Promise<Workspace | null> {
  try {
    return await openAppWorkspace(context);
  } catch (error) {
    if (isLokiError(error) && error.code === 'WORKSPACE_NOT_FOUND') return null;
    throw error;
  }
}

function groupByWorker(tasks: readonly Task[], now: number): AgentInstanceJson[] {
  const tasksByWorker = new Map<string, InstanceTaskJson[]>();
  const byClaimTime = [...tasks].sort(
    (left, right) => (left.claimedAt ?? 0) - (right.claimedAt ?? 0) || left.id.localeCompare(right.id),
  );
  for (const task of byClaimTime) {
    // The store sets claimedBy with in_progress in one transaction; "unknown" only guards old rows.
    const worker = task.claimedBy ?? 'unknown';
    const workerTasks = tasksByWorker.get(worker) ?? [];
    workerTasks.push({
      id: task.id,
      type: task.type,
      isKnownType: isAgentTypeId(task.type),
      title: task.title,
      since: toIso(task.claimedAt),
      leaseExpiresAt: toIso(task.leaseExpiresAt),
      isLeaseExpired: task.leaseExpiresAt !== null && task.leaseExpiresAt <= now,
    });
    tasksByWorker.set(worker, workerTasks);
  }
  return [...tasksByWorker.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([worker, workerTasks]) => ({ worker, tasks: workerTasks }));
}

function toIso(epochMilliseconds: number | null): string | null {
  return epochMilliseconds === null ? null : new Date(epochMilliseconds).toISOString();
}
