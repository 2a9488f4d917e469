import type {
  LanguageModelV4FunctionTool,
  LanguageModelV4Message,
  SharedV4ProviderOptions,
} from '@ai-sdk/provider';

/**
 * The AI SDK's documented way to mark an Anthropic prompt-cache breakpoint: `cache_control` on the
 * block it is attached to. The default (5-minute) lifetime fits a tool loop, whose calls follow
 * each other within seconds; every hit refreshes it.
 */
export const CACHE_BREAKPOINT: SharedV4ProviderOptions = {
  anthropic: { cacheControl: { type: 'ephemeral' } },
};

/** Providers whose API caches only up to explicit breakpoints; OpenAI caches prefixes on its own. */
export function usesCacheBreakpoints(provider: string): boolean {
  return provider === 'anthropic';
}

export interface CachedPrompt {
  prompt: LanguageModelV4Message[];
  tools: LanguageModelV4FunctionTool[];
}

/**
 * Places the four breakpoints Anthropic allows so that a long tool loop reads almost all of each
 * prompt from cache (the API caches the prefix tools → system → messages up to a breakpoint):
 *  1. the last tool definition: the tools, shared by every agent with the same tool set;
 *  2. the system prompt: tools + system, shared by every task of one agent type;
 *  3. the previous call's tail: exactly the prefix the previous call wrote, so this call reads it
 *     even when the last step added more blocks than the API's lookback from a breakpoint spans;
 *  4. the tail: everything, written now for the next call to read.
 * Returns copies; the conversation itself is never marked, so breakpoints move with the tail
 * instead of piling up in the history (the API rejects more than four).
 */
export function markCacheBreakpoints(
  system: string,
  messages: readonly LanguageModelV4Message[],
  tools: readonly LanguageModelV4FunctionTool[],
): CachedPrompt {
  const tailIndex = messages.length - 1;
  const previousTailIndex = findPreviousTail(messages, tailIndex);
  const markedMessages = messages.map((message, index) =>
    index === tailIndex || index === previousTailIndex ? withBreakpoint(message) : message,
  );
  const lastToolIndex = tools.length - 1;
  return {
    prompt: [{ role: 'system', content: system, providerOptions: CACHE_BREAKPOINT }, ...markedMessages],
    tools: tools.map((tool, index) =>
      index === lastToolIndex ? { ...tool, providerOptions: mergeOptions(tool.providerOptions) } : tool,
    ),
  };
}

/** The last user or tool message before the latest assistant turn: the previous call's tail. */
function findPreviousTail(messages: readonly LanguageModelV4Message[], tailIndex: number): number | null {
  for (let index = tailIndex - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message !== undefined && message.role !== 'assistant' && messages[index + 1]?.role === 'assistant') {
      return index;
    }
  }
  return null;
}

function withBreakpoint(message: LanguageModelV4Message): LanguageModelV4Message {
  return { ...message, providerOptions: mergeOptions(message.providerOptions) };
}

function mergeOptions(options: SharedV4ProviderOptions | undefined): SharedV4ProviderOptions {
  return { ...options, anthropic: { ...options?.anthropic, ...CACHE_BREAKPOINT.anthropic } };
}
