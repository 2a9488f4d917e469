/**
 * `codex exec --json` lines in the shapes codex-rs/exec emits (ThreadEvent, serialised with the
 * item's fields flattened next to its `id` and `type`), for scripting the fake `codex`.
 */
export const codexEvents = {
  threadStarted: (threadId: string) => ({ type: 'thread.started', thread_id: threadId }),
  turnStarted: () => ({ type: 'turn.started' }),
  turnCompleted: (usage: { input: number; cached: number; output: number }) => ({
    type: 'turn.completed',
    usage: { input_tokens: usage.input, cached_input_tokens: usage.cached, output_tokens: usage.output },
  }),
  turnFailed: (message: string) => ({ type: 'turn.failed', error: { message } }),
  error: (message: string) => ({ type: 'error', message }),
  reasoning: (id: string, text: string) => ({
    type: 'item.completed',
    item: { id, type: 'reasoning', text },
  }),
  agentMessage: (id: string, text: string) => ({
    type: 'item.completed',
    item: { id, type: 'agent_message', text },
  }),
  commandStarted: (id: string, command: string) => ({
    type: 'item.started',
    item: {
      id,
      type: 'command_execution',
      command,
      aggregated_output: '',
      exit_code: null,
      status: 'in_progress',
    },
  }),
  commandCompleted: (id: string, command: string, output: string, exitCode: number) => ({
    type: 'item.completed',
    item: {
      id,
      type: 'command_execution',
      command,
      aggregated_output: output,
      exit_code: exitCode,
      status: exitCode === 0 ? 'completed' : 'failed',
    },
  }),
  fileChange: (id: string, changes: Array<{ path: string; kind: 'add' | 'delete' | 'update' }>) => ({
    type: 'item.completed',
    item: { id, type: 'file_change', changes, status: 'completed' },
  }),
  todoList: (id: string) => ({
    type: 'item.started',
    item: { id, type: 'todo_list', items: [{ text: 'write the file', completed: false }] },
  }),
};
