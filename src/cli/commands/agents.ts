import type { Command } from 'commander';
import { AGENT_CATALOG, isAgentTypeId } from '../../agents/index.ts';
import { isLokiError } from '../../errors/index.ts';
import type { Task } from '../../store/index.ts';
import type { Workspace } from '../../workspace/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { openCliWorkspace } from '../open-cli-workspace.ts';
import { formatTable, sanitizeForTerminal, truncate } from '../terminal-text.ts';

interface AgentTypeJson {
  id: string;
  swarm: string;
  title: string;
  purpose: string;
  tier: string;
  tools: string[];
}

interface InstanceTaskJson {
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
interface AgentInstanceJson {
  worker: string;
  tasks: InstanceTaskJson[];
}

interface AgentsJson {
  /** The workspace the instances come from, or null when the command ran outside one. */
  workspace: string | null;
  types: AgentTypeJson[];
  instances: AgentInstanceJson[];
}

export function registerAgentsCommand(program: Command, context: CliContext): void {
  program
    .command('agents')
    .description('list the agent types (catalog) and the agents working in this workspace now')
    .option('--json', 'print {"workspace": ..., "types": [...], "instances": [...]} as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const types = AGENT_CATALOG.map((agentType): AgentTypeJson => ({
        id: agentType.id,
        swarm: agentType.swarm,
        title: agentType.title,
        purpose: agentType.purpose,
        tier: agentType.defaultTier,
        tools: [...agentType.tools],
      }));
      const workspace = await openWorkspaceIfPresent(command, context);
      let report: AgentsJson;
      if (workspace === null) {
        report = { workspace: null, types, instances: [] };
      } else {
        await using openedWorkspace = workspace;
        // Read-only, like `loki status`: listing agents never changes the store.
        const tasks = await openedWorkspace.store.listTasks({ statuses: ['in_progress'] });
        report = {
          workspace: openedWorkspace.paths.root,
          types,
          instances: groupByWorker(tasks, context.clock.now()),
        };
      }
      if (options.json === true) writeJson(context, report);
      else context.stdout(formatAgentsText(report, context.cwd, context.clock.now()));
    });
}

/**
 * The catalog is useful before `loki init` too, so a missing workspace is not an error here: the
 * command shows the catalog and says there are no live instances to show.
 */
async function openWorkspaceIfPresent(command: Command, context: CliContext): Promise<Workspace | null> {
  try {
    return await openCliWorkspace(command, context);
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

function formatAgentsText(report: AgentsJson, cwd: string, now: number): string {
  const typeTable = formatTable(
    ['ID', 'SWARM', 'TIER', 'TOOLS', 'TITLE'],
    report.types.map((agentType) => [
      agentType.id,
      agentType.swarm,
      agentType.tier,
      String(agentType.tools.length),
      agentType.title,
    ]),
  );
  const sections = [`Agent types (${report.types.length}):\n${typeTable}`];
  if (report.workspace === null) {
    sections.push(
      `No Loki workspace in ${sanitizeForTerminal(cwd)}, so no live agents to show (run "loki init" to create one).\n`,
    );
  } else if (report.instances.length === 0) {
    sections.push('Live agents: none (no task is in progress).\n');
  } else {
    const taskCount = report.instances.reduce((sum, instance) => sum + instance.tasks.length, 0);
    const rows = report.instances.flatMap((instance) =>
      instance.tasks.map((task) => [
        instance.worker,
        task.id,
        task.isKnownType ? task.type : `${task.type} (unknown type)`,
        describeSince(task, now),
        truncate(task.title, 80),
      ]),
    );
    sections.push(
      `Live agents (${plural(report.instances.length, 'worker')}, ${plural(taskCount, 'task')} in progress):\n` +
        formatTable(['WORKER', 'TASK', 'TYPE', 'SINCE', 'TITLE'], rows),
    );
  }
  return sections.join('\n');
}

function describeSince(task: InstanceTaskJson, now: number): string {
  if (task.since === null) return 'unknown';
  const age = `${task.since.replace(/\.\d{3}Z$/, 'Z')} (${formatAge(now - Date.parse(task.since))} ago)`;
  return task.isLeaseExpired ? `${age}, lease expired` : age;
}

/** A rough age for people: "45s", "12m", "3h 5m", "2d 4h". */
function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
