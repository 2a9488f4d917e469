import type { Command } from 'commander';
import type { AgentsJson, InstanceTaskJson } from '../../app/index.ts';
import { type CliContext, writeJson } from '../cli-context.ts';
import { appContextOf } from '../open-cli-workspace.ts';
import { formatTable, sanitizeForTerminal, truncate } from '../terminal-text.ts';

export function registerAgentsCommand(program: Command, context: CliContext): void {
  program
    .command('agents')
    .description('list the agent types (catalog) and the agents working in this workspace now')
    .option('--json', 'print {"workspace": ..., "types": [...], "instances": [...]} as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { listAgents } = await import('../../app/list-agents.ts');
      const report = await listAgents(appContextOf(command, context));
      if (options.json === true) writeJson(context, report);
      else context.stdout(formatAgentsText(report, context.cwd, context.clock.now()));
    });
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
