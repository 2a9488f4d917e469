/**
 * A fake Anthropic API that plays a whole `loki run` for the real Claude Code binary (through the
 * Agent SDK): Discovery and Architecture submit through Loki's `loki` MCP tools; each task agent
 * writes its files with Claude Code's Write tool, checks them with Bash, and ends with a text turn.
 * Requests are matched to phases by the tool they offer and to tasks by their prompt, so agents may
 * call in any order.
 */
import { buildSession, type SessionTask } from '../../src/bench/generated-session.ts';
import type { RecordedRequest } from '../fakes/fake-http-server.ts';
import { type FakeReply, fakeReply } from '../fakes/fake-reply.ts';
import { taskOf } from './anthropic-session.ts';
import type { ArrivalBarrier } from './arrival-barrier.ts';

interface MessagesBody {
  tools?: { name: string }[];
  messages?: { role: string; content: { type: string }[] | string }[];
}

/** A `route` for startClaudeCodeFakeApi; calls that offer no tools are Claude Code's side calls. */
export function claudeCodeSessionRoute(
  tasks: readonly SessionTask[],
  options: {
    delayMilliseconds?: number;
    /** Holds each task's first call until every task has made it (see ArrivalBarrier). */
    barrier?: ArrivalBarrier;
  } = {},
) {
  const session = buildSession({ tasks: [...tasks] });
  const submissions = [session.discovery, session.architecture].map(
    (steps) =>
      (steps as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[])[0]?.toolCalls[0],
  );
  return (request: RecordedRequest): FakeReply | undefined => {
    const body = request.body as MessagesBody;
    const tools = (body.tools ?? []).map((tool) => tool.name);
    if (tools.length === 0) return undefined;
    const turns = (body.messages ?? []).filter((message) => message.role === 'assistant').length;
    for (const call of submissions) {
      if (call === undefined || !tools.includes(`mcp__loki__${call.toolName}`)) continue;
      return turns === 0
        ? fakeReply.toolCall(`mcp__loki__${call.toolName}`, call.input)
        : fakeReply.text('Submitted.');
    }
    const task = taskOf(request, tasks);
    if (task === undefined) return undefined;
    const worktree = workingDirectoryOf(request);
    const turn =
      turns === 0
        ? fakeReply.turn({
            text: `Writing the files of ${task.id}.`,
            toolCalls: Object.entries(task.files).map(([path, content]) => ({
              name: 'Write',
              input: { file_path: `${worktree}/${path}`, content },
            })),
          })
        : turns === 1
          ? fakeReply.toolCall('Bash', {
              command: `cat ${Object.keys(task.files).join(' ')}`,
              description: 'Check the files',
            })
          : fakeReply.text(`Wrote ${task.id}.`);
    const held = turns === 0 ? options.barrier?.arrive(task.id) : undefined;
    return {
      ...turn,
      delayMilliseconds: options.delayMilliseconds ?? 150,
      ...(held === undefined ? {} : { heldUntil: held }),
    };
  };
}

/** Claude Code tells the model its working directory in the environment section of its prompt. */
function workingDirectoryOf(request: RecordedRequest): string {
  const match = /Primary working directory: ([^\s"\\]+)/.exec(request.rawBody);
  if (match?.[1] === undefined) throw new Error('the prompt names no working directory');
  return match[1];
}
