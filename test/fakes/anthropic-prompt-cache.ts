import { createHash } from 'node:crypto';

/** What one request's input was billed as, the way the Messages API splits it in `usage`. */
export interface PromptCacheAccount {
  /** Tokens after the last cached or written breakpoint (`input_tokens`). */
  inputTokens: number;
  /** `cache_read_input_tokens`: the longest prefix this request found in the cache. */
  cacheReadTokens: number;
  /** `cache_creation_input_tokens`: from the end of that prefix to the last cacheable breakpoint. */
  cacheWriteTokens: number;
}

export interface AnthropicPromptCacheOptions {
  /** Milliseconds since the epoch; entries expire after their TTL (5 minutes, or 1 hour). */
  now?: () => number;
  /** Overrides the per-model minimum cacheable prefix, e.g. to cache small test prompts. */
  minimumCacheableTokens?: number;
}

/**
 * How far back from a breakpoint the API looks for an earlier cached prefix: "about 20 blocks"
 * in Anthropic's prompt-caching documentation.
 */
const LOOKBACK_BLOCKS = 20;
const FIVE_MINUTES = 5 * 60 * 1000;
const ONE_HOUR = 60 * 60 * 1000;

/**
 * The minimum cacheable prompt length per model, from Anthropic's documentation; a prefix shorter
 * than this is processed without caching, with no error. Models not listed get 1024.
 */
const MINIMUM_CACHEABLE_TOKENS: ReadonlyArray<[prefix: string, tokens: number]> = [
  ['claude-opus-4-5', 4096],
  ['claude-haiku-4-5', 4096],
  ['claude-3-5-haiku', 2048],
  ['claude-3-haiku', 2048],
];

interface Block {
  tokens: number;
  /** The hash of the whole prefix up to and including this block (model included: caches are per model). */
  prefixHash: string;
  /** Set on a block that carries `cache_control`: the entry's lifetime. */
  ttlMilliseconds?: number;
}

/**
 * The Messages API's prompt cache as documented: the prompt is the sequence tools → system →
 * messages, cut into content blocks; a `cache_control` block is a breakpoint. A request reads the
 * longest prefix that an earlier request wrote, found by looking back from each breakpoint, and
 * writes the prefix up to its last breakpoint when that is long enough to cache. Tokens are
 * estimated at four characters each (the fake's token counting everywhere).
 */
export class AnthropicPromptCache {
  readonly #entries = new Map<string, number>();
  readonly #now: () => number;
  readonly #minimumCacheableTokens: number | undefined;

  constructor(options: AnthropicPromptCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#minimumCacheableTokens = options.minimumCacheableTokens;
  }

  /** Accounts for one request and updates the cache; undefined when it has no breakpoint. */
  account(body: Record<string, unknown>, model: string): PromptCacheAccount | undefined {
    const blocks = promptBlocks(body, model);
    const breakpoints = blocks.flatMap((block, index) =>
      block.ttlMilliseconds === undefined ? [] : [index],
    );
    if (breakpoints.length === 0) return undefined;
    // prefixTokens[i]: the tokens of blocks 0..i, i.e. of the prefix that ends with block i.
    const prefixTokens: number[] = [];
    let runningTotal = 0;
    for (const block of blocks) {
      runningTotal += block.tokens;
      prefixTokens.push(runningTotal);
    }
    const totalTokens = runningTotal;

    const now = this.#now();
    const readEnd = this.#longestCachedPrefix(blocks, breakpoints, now);
    const cacheReadTokens = readEnd < 0 ? 0 : (prefixTokens[readEnd] ?? 0);
    if (readEnd >= 0) this.#refresh(blocks[readEnd], now);

    const minimum = this.#minimumCacheableTokens ?? minimumCacheableTokensOf(model);
    let writeEnd = readEnd;
    for (const index of breakpoints) {
      const block = blocks[index];
      if (block === undefined || (prefixTokens[index] ?? 0) < minimum) continue;
      this.#refresh(block, now);
      if (index > writeEnd) writeEnd = index;
    }
    const cacheWriteTokens = writeEnd > readEnd ? (prefixTokens[writeEnd] ?? 0) - cacheReadTokens : 0;
    return {
      inputTokens: totalTokens - cacheReadTokens - cacheWriteTokens,
      cacheReadTokens,
      cacheWriteTokens,
    };
  }

  #longestCachedPrefix(blocks: Block[], breakpoints: number[], now: number): number {
    let longest = -1;
    for (const breakpoint of breakpoints) {
      for (let index = breakpoint; index >= 0 && index > breakpoint - LOOKBACK_BLOCKS; index -= 1) {
        const block = blocks[index];
        if (index <= longest || block === undefined) break;
        const expiresAt = this.#entries.get(block.prefixHash);
        if (expiresAt !== undefined && expiresAt > now) {
          longest = index;
          break;
        }
      }
    }
    return longest;
  }

  /** Writes an entry, or on a hit extends its life: every read refreshes the TTL. */
  #refresh(block: Block | undefined, now: number): void {
    if (block === undefined) return;
    const lifetime = block.ttlMilliseconds ?? FIVE_MINUTES;
    const expiresAt = Math.max(this.#entries.get(block.prefixHash) ?? 0, now + lifetime);
    this.#entries.set(block.prefixHash, expiresAt);
  }
}

function minimumCacheableTokensOf(model: string): number {
  return MINIMUM_CACHEABLE_TOKENS.find(([prefix]) => model.startsWith(prefix))?.[1] ?? 1024;
}

/** The request's content blocks in cache order (tools, system, messages), each with its prefix hash. */
function promptBlocks(body: Record<string, unknown>, model: string): Block[] {
  const raw: Array<{ key: string; value: Record<string, unknown> }> = [];
  for (const tool of asArray(body.tools)) raw.push({ key: 'tool', value: tool });
  const system = body.system;
  if (typeof system === 'string') raw.push({ key: 'system', value: { type: 'text', text: system } });
  else for (const block of asArray(system)) raw.push({ key: 'system', value: block });
  for (const message of asArray(body.messages)) {
    const role = String(message.role);
    const content = message.content;
    if (typeof content === 'string') raw.push({ key: role, value: { type: 'text', text: content } });
    else for (const block of asArray(content)) raw.push({ key: role, value: block });
  }
  let hash = createHash('sha256').update(model).digest('hex');
  return raw.map(({ key, value }) => {
    const { cache_control: cacheControl, ...rest } = value;
    const text = `${key}:${JSON.stringify(rest)}`;
    hash = createHash('sha256').update(hash).update(text).digest('hex');
    const block: Block = { tokens: Math.ceil(text.length / 4), prefixHash: hash };
    if (typeof cacheControl === 'object' && cacheControl !== null) {
      block.ttlMilliseconds = (cacheControl as { ttl?: unknown }).ttl === '1h' ? ONE_HOUR : FIVE_MINUTES;
    }
    return block;
  });
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value)
    ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    : [];
}
