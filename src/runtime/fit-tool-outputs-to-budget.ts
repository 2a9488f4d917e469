import type { LanguageModelV4Message, LanguageModelV4ToolResultPart } from '@ai-sdk/provider';

/**
 * Tokens that tool outputs kept in one agent's conversation may take together: about a fifth of
 * a 200k-token context window, leaving room for the system prompt, the model's own turns and a
 * long task. Each output is already capped when the tool returns it (see src/tools).
 */
export const DEFAULT_TOOL_OUTPUT_HISTORY_TOKENS = 40_000;

/** A shortened output keeps this many characters of its beginning and end around the note. */
const SHORTENED_HEAD_CHARACTERS = 600;
const SHORTENED_TAIL_CHARACTERS = 400;

/**
 * Once over budget, outputs are shortened down to this share of it, not just below it: each
 * shortening changes the conversation's prefix and so costs one prompt-cache rewrite from that
 * point on, which should then buy many cached calls before the next one.
 */
const REFILL_SHARE = 0.5;

/**
 * A rough token count: four characters a token, the usual estimate for English and code. No
 * tokenizer is shared by every provider, and a budget needs an estimate, not an exact count.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Where tools kept the full text of an output, so a shortened one can point the model to it. */
const fullOutputPaths = new WeakMap<LanguageModelV4ToolResultPart, string>();

export function rememberFullOutputPath(part: LanguageModelV4ToolResultPart, path: string | null): void {
  if (path !== null) fullOutputPaths.set(part, path);
}

/**
 * Keeps the tool outputs in a conversation within `maxTokens`: when they pass it, the oldest are
 * shortened first (head and tail around a note saying what was cut and where the full output
 * is) until they fit in half the budget. The latest tool results are never shortened: the model
 * has not read them yet. Shortening is in place and final, so the history stays byte-stable
 * between shortenings and the prompt cache keeps hitting. Returns how many outputs it shortened.
 */
export function fitToolOutputsToBudget(messages: LanguageModelV4Message[], maxTokens: number): number {
  const parts = toolResultParts(messages);
  let total = parts.all.reduce((sum, part) => sum + estimateTokens(outputText(part)), 0);
  if (total <= maxTokens) return 0;
  const target = Math.floor(maxTokens * REFILL_SHARE);
  let shortened = 0;
  for (const part of parts.shortenable) {
    if (total <= target) break;
    const text = outputText(part);
    const shorter = shortenOutput(text, fullOutputPaths.get(part) ?? null);
    if (shorter.length >= text.length) continue;
    part.output = { type: part.output.type === 'error-text' ? 'error-text' : 'text', value: shorter };
    total -= estimateTokens(text) - estimateTokens(shorter);
    shortened += 1;
  }
  return shortened;
}

/** Every tool result in history order, and how many of them belong to earlier tool messages. */
function toolResultParts(messages: LanguageModelV4Message[]): {
  all: LanguageModelV4ToolResultPart[];
  shortenable: LanguageModelV4ToolResultPart[];
} {
  const byMessage = messages.map((message) =>
    message.role === 'tool'
      ? message.content.filter((part): part is LanguageModelV4ToolResultPart => part.type === 'tool-result')
      : [],
  );
  const latestToolMessage = messages.findLastIndex((message) => message.role === 'tool');
  return {
    all: byMessage.flat(),
    shortenable: byMessage.slice(0, Math.max(0, latestToolMessage)).flat(),
  };
}

function outputText(part: LanguageModelV4ToolResultPart): string {
  const output = part.output;
  return output.type === 'text' || output.type === 'error-text' ? output.value : '';
}

function shortenOutput(text: string, fullOutputPath: string | null): string {
  const omitted = text.length - SHORTENED_HEAD_CHARACTERS - SHORTENED_TAIL_CHARACTERS;
  // A note is about 200 characters: shortening what it would barely shrink is not worth a rewrite.
  if (omitted < 400) return text;
  const where =
    fullOutputPath === null
      ? 'it was not kept; run the tool again if you need it'
      : `the full output is in ${fullOutputPath}`;
  return (
    `${text.slice(0, SHORTENED_HEAD_CHARACTERS)}\n\n` +
    `[... ${omitted} of ${text.length} characters of this older tool output were cut to keep the ` +
    `conversation within its context budget; ${where} ...]\n\n` +
    text.slice(text.length - SHORTENED_TAIL_CHARACTERS)
  );
}
