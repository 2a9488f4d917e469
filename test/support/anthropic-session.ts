/**
 * A fake Anthropic API that plays a generated session (src/bench/generated-session.ts) for `loki run`:
 * the planning submissions, then for each task one call that writes its files and one that
 * completes it. Requests are matched to tasks by their prompt, so agents may call in any order.
 */
import { buildSession, type SessionTask } from '../../src/bench/generated-session.ts';
import type { RecordedRequest } from '../fakes/fake-http-server.ts';
import { type FakeReply, fakeReply } from '../fakes/fake-reply.ts';

interface AnthropicRequestBody {
  tools?: { name: string }[];
  messages?: { role: string; content: { type: string; text?: string }[] | string }[];
}

/** The task a request works on, read from its first (task prompt) message. */
export function taskOf(request: RecordedRequest, tasks: readonly SessionTask[]): SessionTask | undefined {
  const first = (request.body as AnthropicRequestBody).messages?.[0];
  const text = typeof first?.content === 'string' ? first.content : JSON.stringify(first?.content ?? '');
  return tasks.find((task) => text.includes(`Task ${task.id},`));
}

/**
 * A `route` for startFakeAnthropicServer. `fault` may answer a call first (a 429, a 529); task
 * calls are answered after `delayMilliseconds` (150 by default), so that agents' calls overlap.
 */
export function sessionRoute(
  tasks: readonly SessionTask[],
  options: {
    fault?: (request: RecordedRequest, task: SessionTask | undefined) => FakeReply | undefined;
    delayMilliseconds?: number;
  },
) {
  const session = buildSession({ tasks: [...tasks] });
  const submission = (steps: unknown) =>
    (steps as { toolCalls: { toolName: string; input: Record<string, unknown> }[] }[])[0]?.toolCalls[0];
  return (request: RecordedRequest): FakeReply | undefined => {
    const body = request.body as AnthropicRequestBody;
    const tools = (body.tools ?? []).map((tool) => tool.name);
    const task = taskOf(request, tasks);
    const fault = options.fault?.(request, task);
    if (fault !== undefined) return fault;
    for (const steps of [session.discovery, session.architecture]) {
      const call = submission(steps);
      if (call !== undefined && tools.includes(call.toolName)) {
        return fakeReply.toolCall(call.toolName, call.input);
      }
    }
    if (task === undefined) return undefined;
    const answered = (body.messages ?? []).filter((message) => message.role === 'assistant').length;
    const turn =
      answered === 0
        ? fakeReply.turn({
            toolCalls: Object.entries(task.files).map(([path, content]) => ({
              name: 'write_file',
              input: { path, content },
            })),
          })
        : fakeReply.toolCall('task_complete', { summary: 'done', files_changed: [], tests_run: [] });
    return { ...turn, delayMilliseconds: options.delayMilliseconds ?? 150 };
  };
}
