/**
 * A fake OpenAI Responses API that plays a whole `loki run` for the real Codex binary (through the
 * Codex SDK): Discovery and Architecture submit through Loki's `loki` MCP tools (Codex offers them in
 * the `mcp__loki` namespace); each task agent writes its files with Codex's own `exec_command`,
 * then completes through `task_complete`, then ends with a text turn. Requests are matched to phases
 * by the tools they offer and to tasks by their prompt, so agents may call in any order.
 */
import { buildSession, type SessionTask } from '../../src/bench/generated-session.ts';
import type { RecordedRequest } from '../fakes/fake-http-server.ts';
import { type FakeReply, fakeReply, type FakeTurn } from '../fakes/fake-reply.ts';
import type { ArrivalBarrier } from './arrival-barrier.ts';

interface ResponsesTool {
  name?: string;
  tools?: { name: string }[];
}

interface ResponsesBody {
  tools?: ResponsesTool[];
  input?: { type?: string }[] | string;
}

const LOKI_NAMESPACE = 'mcp__loki';

/** The tools of the `mcp__loki` namespace a request offers. */
export function lokiToolsOffered(request: RecordedRequest): string[] {
  const tools = (request.body as ResponsesBody).tools ?? [];
  return tools.find((tool) => tool.name === LOKI_NAMESPACE)?.tools?.map((tool) => tool.name) ?? [];
}

/** Tool results already in the conversation: how far the agent is. */
function toolResultsOf(request: RecordedRequest): number {
  const input = (request.body as ResponsesBody).input;
  if (!Array.isArray(input)) return 0;
  return input.filter((item) => item.type === 'function_call_output').length;
}

/** A `route` for startFakeOpenAIServer; calls that offer no tools are Codex's side calls. */
export function codexSessionRoute(
  tasks: readonly SessionTask[],
  options: {
    delayMilliseconds?: number;
    /** Replaces the scripted answer of a planning call (e.g. an invalid submission first). */
    planning?: (toolName: string, results: number) => FakeReply | undefined;
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
    if (((request.body as ResponsesBody).tools ?? []).length === 0) return undefined;
    const offered = lokiToolsOffered(request);
    const results = toolResultsOf(request);
    for (const call of submissions) {
      if (call === undefined || !offered.includes(call.toolName)) continue;
      const planned = options.planning?.(call.toolName, results);
      if (planned !== undefined) return planned;
      return results === 0
        ? submissionCall(call.toolName, call.input)
        : fakeReply.text(`Submitted ${call.toolName}.`);
    }
    const task = tasks.find((candidate) => request.rawBody.includes(`Task ${candidate.id},`));
    if (task === undefined) return undefined;
    const held = results === 0 ? options.barrier?.arrive(task.id) : undefined;
    return {
      ...taskTurn(task, results),
      delayMilliseconds: options.delayMilliseconds ?? 150,
      ...(held === undefined ? {} : { heldUntil: held }),
    };
  };
}

/** A call of a `loki` MCP tool as the model makes it: a function call in the server's namespace. */
export function submissionCall(toolName: string, input: Record<string, unknown>): FakeTurn {
  return fakeReply.turn({ toolCalls: [{ name: toolName, namespace: LOKI_NAMESPACE, input }] });
}

function taskTurn(task: SessionTask, results: number): FakeTurn {
  if (results === 0) {
    const commands = Object.entries(task.files).map(
      ([path, content]) =>
        `mkdir -p "$(dirname '${path}')" && printf '%s' '${content.replace(/'/g, '')}' > '${path}'`,
    );
    return fakeReply.turn({
      text: `Writing the files of ${task.id}.`,
      toolCalls: [{ name: 'exec_command', input: { cmd: commands.join(' && ') } }],
    });
  }
  if (results === 1) {
    return submissionCall('task_complete', {
      summary: `Wrote ${task.id}`,
      files_changed: Object.keys(task.files),
      tests_run: [],
    });
  }
  return fakeReply.text(`Wrote ${task.id}.`);
}
