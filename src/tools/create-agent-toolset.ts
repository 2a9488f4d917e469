import { executeTool } from './execute-tool.ts';
import type { TaskCompletion, Tool, ToolContext } from './tool.ts';

export interface AgentToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export interface AgentToolOutcome {
  isError: boolean;
  output: string;
  completion?: TaskCompletion;
  /** Where the full output was kept when `output` had to be cut. */
  fullOutputPath?: string | null;
}

/**
 * The tools one agent may use, bound to its task's context: what the agent loop describes to the
 * model and calls back into. A call to a tool the agent was not given is an error the model sees,
 * not a crash.
 */
export function createAgentToolset(
  tools: readonly Tool[],
  context: ToolContext,
): { tools: readonly Tool[]; executeTool: (call: AgentToolCall) => Promise<AgentToolOutcome> } {
  const toolsByName = new Map(tools.map((tool) => [tool.name, tool]));
  return {
    tools,
    async executeTool(call) {
      const tool = toolsByName.get(call.toolName);
      if (tool === undefined) {
        // Recorded like any other call: a refused attempt is worth seeing in the event log.
        const output = `unknown tool "${call.toolName}"; this agent has: ${[...toolsByName.keys()].join(', ')}`;
        const identity = { runId: context.runId, taskId: context.taskId };
        context.emit({
          type: 'agent.tool_called',
          ...identity,
          data: {
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            input: context.redactor.redactValue(call.input),
          },
        });
        context.emit({
          type: 'agent.tool_result',
          ...identity,
          data: {
            toolCallId: call.toolCallId,
            toolName: call.toolName,
            isError: true,
            output,
            fullOutputPath: null,
            durationMilliseconds: 0,
          },
        });
        return { isError: true, output };
      }
      const executed = await executeTool(tool, call.input, context, { toolCallId: call.toolCallId });
      return {
        isError: executed.isError,
        output: executed.output,
        fullOutputPath: executed.fullOutputPath,
        ...(executed.completion === null ? {} : { completion: executed.completion }),
      };
    },
  };
}
