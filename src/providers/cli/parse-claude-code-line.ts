import { z } from 'zod';
import { truncateText } from './describe-text.ts';
import { parseJsonLine } from './parse-json-line.ts';

/**
 * One line of `claude -p --output-format stream-json --verbose`, reduced to what Loki uses.
 * Claude Code writes one JSON object per line: `system` (init, api_retry, hooks…), `assistant`
 * (one content block per line, several lines per API message), `user` (tool results), optional
 * `rate_limit_event`, and a final `result`. Fields Loki does not use are ignored, and so are line
 * types it does not know, so a newer Claude Code does not break the runtime.
 */
export type ClaudeCodeLine =
  | { kind: 'init'; sessionId: string; model: string; version: string | null }
  | ClaudeCodeAssistantLine
  | { kind: 'tool_results'; results: ClaudeCodeToolResult[] }
  | ClaudeCodeApiRetryLine
  | { kind: 'rate_limit'; status: string; resetsAtSeconds: number | null }
  | ClaudeCodeResultLine
  | { kind: 'ignored'; type: string }
  | { kind: 'unparseable'; reason: string; line: string };

export interface ClaudeCodeAssistantLine {
  kind: 'assistant';
  messageId: string;
  model: string;
  /** Claude Code reports a failed API call as a synthetic assistant message carrying these fields. */
  apiError: ClaudeCodeApiError | null;
  blocks: ClaudeCodeAssistantBlock[];
}

export interface ClaudeCodeApiError {
  /** Claude Code's own category: authentication_failed, rate_limit, overloaded, server_error… */
  error: string | null;
  status: number | null;
  type: string | null;
  message: string;
}

export type ClaudeCodeAssistantBlock =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface ClaudeCodeToolResult {
  toolUseId: string;
  isError: boolean;
  output: string;
}

export interface ClaudeCodeApiRetryLine {
  kind: 'api_retry';
  attempt: number;
  maxRetries: number | null;
  delayMilliseconds: number;
  errorStatus: number | null;
  error: string | null;
}

export interface ClaudeCodeModelUsage {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** What Claude Code itself computed, in USD; used only when Loki's price table lacks the model. */
  costUsd: number;
}

export interface ClaudeCodeResultLine {
  kind: 'result';
  /** success, error_max_turns, error_during_execution, error_max_budget_usd… */
  subtype: string;
  isError: boolean;
  sessionId: string | null;
  numberOfTurns: number;
  /** The final message (or, on an API failure, Claude Code's description of it). */
  resultText: string | null;
  errors: string[];
  apiErrorStatus: number | null;
  apiErrorType: string | null;
  /** Per model, including the small models Claude Code calls on the side. */
  modelUsage: ClaudeCodeModelUsage[];
  totalCostUsd: number;
}

const count = z.number().nonnegative().catch(0);
const optionalString = z.string().nullish().catch(null);
const optionalNumber = z.number().nullish().catch(null);

const initSchema = z.object({
  session_id: z.string(),
  model: z.string(),
  claude_code_version: optionalString,
});

const apiRetrySchema = z.object({
  attempt: z.number(),
  max_retries: optionalNumber,
  retry_delay_ms: z.number().nonnegative(),
  error_status: optionalNumber,
  error: z.unknown(),
});

const blockSchema = z.looseObject({ type: z.string() });
const textBlockSchema = z.object({ type: z.literal('text'), text: z.string() });
const toolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
const toolResultBlockSchema = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  is_error: z.boolean().nullish(),
  content: z.union([z.string(), z.array(blockSchema)]).nullish(),
});

const assistantSchema = z.object({
  message: z.object({
    id: z.string(),
    model: z.string(),
    content: z.array(blockSchema),
  }),
  error: optionalString,
  is_api_error_message: z.boolean().nullish(),
  api_error_status: optionalNumber,
  api_error_type: optionalString,
});

const userSchema = z.object({
  message: z.object({ content: z.union([z.string(), z.array(blockSchema)]) }),
});

const modelUsageSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  cacheReadInputTokens: count,
  cacheCreationInputTokens: count,
  costUSD: count,
});

const resultSchema = z.object({
  subtype: z.string(),
  is_error: z.boolean(),
  session_id: optionalString,
  num_turns: count,
  result: optionalString,
  errors: z.array(z.string()).catch([]).default([]),
  api_error_status: optionalNumber,
  api_error_type: optionalString,
  total_cost_usd: count,
  modelUsage: z.record(z.string(), modelUsageSchema).catch({}).default({}),
});

const rateLimitSchema = z.object({
  rate_limit_info: z.object({ status: z.string(), resetsAt: optionalNumber }),
});

const envelopeSchema = z.looseObject({ type: z.string(), subtype: z.string().optional() });

const MAXIMUM_TOOL_OUTPUT_CHARACTERS = 4_000;
const MAXIMUM_QUOTED_LINE_CHARACTERS = 500;

export function parseClaudeCodeLine(line: string): ClaudeCodeLine {
  const json = parseJsonLine(line);
  if (!json.isValid) return unparseable(`not JSON (${json.reason})`, line);
  const envelope = envelopeSchema.safeParse(json.value);
  if (!envelope.success) return unparseable('not an object with a "type"', line);
  const { type, subtype } = envelope.data;

  const parse = <Schema extends z.ZodType>(schema: Schema): z.output<Schema> | undefined => {
    const parsed = schema.safeParse(json.value);
    return parsed.success ? parsed.data : undefined;
  };
  const describe = `${type}${subtype === undefined ? '' : `/${subtype}`}`;

  if (type === 'system' && subtype === 'init') {
    const init = parse(initSchema);
    if (init === undefined) return unparseable(`malformed ${describe} line`, line);
    return {
      kind: 'init',
      sessionId: init.session_id,
      model: init.model,
      version: init.claude_code_version ?? null,
    };
  }
  if (type === 'system' && subtype === 'api_retry') {
    const retry = parse(apiRetrySchema);
    if (retry === undefined) return unparseable(`malformed ${describe} line`, line);
    return {
      kind: 'api_retry',
      attempt: retry.attempt,
      maxRetries: retry.max_retries ?? null,
      delayMilliseconds: retry.retry_delay_ms,
      errorStatus: retry.error_status ?? null,
      error:
        typeof retry.error === 'string'
          ? retry.error
          : retry.error === undefined
            ? null
            : JSON.stringify(retry.error),
    };
  }
  if (type === 'assistant') {
    const assistant = parse(assistantSchema);
    if (assistant === undefined) return unparseable(`malformed ${describe} line`, line);
    return toAssistantLine(assistant);
  }
  if (type === 'user') {
    const user = parse(userSchema);
    if (user === undefined) return unparseable(`malformed ${describe} line`, line);
    const blocks = typeof user.message.content === 'string' ? [] : user.message.content;
    return { kind: 'tool_results', results: blocks.flatMap(toToolResult) };
  }
  if (type === 'rate_limit_event') {
    const rateLimit = parse(rateLimitSchema);
    if (rateLimit === undefined) return unparseable(`malformed ${describe} line`, line);
    return {
      kind: 'rate_limit',
      status: rateLimit.rate_limit_info.status,
      resetsAtSeconds: rateLimit.rate_limit_info.resetsAt ?? null,
    };
  }
  if (type === 'result') {
    const result = parse(resultSchema);
    if (result === undefined) return unparseable(`malformed ${describe} line`, line);
    return toResultLine(result);
  }
  return { kind: 'ignored', type: describe };
}

function toAssistantLine(assistant: z.output<typeof assistantSchema>): ClaudeCodeAssistantLine {
  const blocks: ClaudeCodeAssistantBlock[] = [];
  for (const block of assistant.message.content) {
    const text = textBlockSchema.safeParse(block);
    if (text.success) blocks.push({ type: 'text', text: text.data.text });
    const toolUse = toolUseBlockSchema.safeParse(block);
    if (toolUse.success) {
      blocks.push({
        type: 'tool_use',
        id: toolUse.data.id,
        name: toolUse.data.name,
        input: toolUse.data.input,
      });
    }
    // Thinking and other block types carry nothing Loki records.
  }
  const isApiError = assistant.is_api_error_message === true || (assistant.api_error_status ?? null) !== null;
  return {
    kind: 'assistant',
    messageId: assistant.message.id,
    model: assistant.message.model,
    apiError: isApiError
      ? {
          error: assistant.error ?? null,
          status: assistant.api_error_status ?? null,
          type: assistant.api_error_type ?? null,
          message: blocks
            .map((block) => (block.type === 'text' ? block.text : ''))
            .join(' ')
            .trim(),
        }
      : null,
    blocks: isApiError ? [] : blocks,
  };
}

function toToolResult(block: z.output<typeof blockSchema>): ClaudeCodeToolResult[] {
  const parsed = toolResultBlockSchema.safeParse(block);
  if (!parsed.success) return [];
  const content = parsed.data.content ?? '';
  const output =
    typeof content === 'string'
      ? content
      : content
          .map((part) =>
            part.type === 'text' && typeof part.text === 'string' ? part.text : `[${part.type}]`,
          )
          .join('\n');
  return [
    {
      toolUseId: parsed.data.tool_use_id,
      isError: parsed.data.is_error === true,
      output: truncateText(output, MAXIMUM_TOOL_OUTPUT_CHARACTERS),
    },
  ];
}

function toResultLine(result: z.output<typeof resultSchema>): ClaudeCodeResultLine {
  return {
    kind: 'result',
    subtype: result.subtype,
    isError: result.is_error,
    sessionId: result.session_id ?? null,
    numberOfTurns: result.num_turns,
    resultText: result.result ?? null,
    errors: result.errors,
    apiErrorStatus: result.api_error_status ?? null,
    apiErrorType: result.api_error_type ?? null,
    totalCostUsd: result.total_cost_usd,
    modelUsage: Object.entries(result.modelUsage).map(([model, usage]) => ({
      model,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheReadTokens: usage.cacheReadInputTokens,
      cacheWriteTokens: usage.cacheCreationInputTokens,
      costUsd: usage.costUSD,
    })),
  };
}

function unparseable(reason: string, line: string): ClaudeCodeLine {
  return { kind: 'unparseable', reason, line: truncateText(line, MAXIMUM_QUOTED_LINE_CHARACTERS) };
}
