/**
 * What a fake provider answers to the next model call, independent of the wire protocol: the
 * Anthropic fake renders a turn as Messages SSE, the OpenAI fake as Chat Completions or Responses
 * events, depending on the endpoint the client called.
 */
export interface FakeToolCall {
  name: string;
  input: Record<string, unknown>;
  /** Defaults to a protocol-style id (`toolu_fake_1`, `call_fake_1`). */
  id?: string;
  /**
   * Responses API only: the namespace of a namespaced tool (Codex offers each MCP server's tools
   * in a `mcp__<server>` namespace), sent as the function call's `namespace` field.
   */
  namespace?: string;
  /**
   * Responses API only: the raw input of a custom (freeform) tool, sent as a `custom_tool_call`
   * instead of a function call (Codex offers `apply_patch` that way); `input` is then ignored.
   */
  freeformInput?: string;
}

export interface FakeUsage {
  /** Uncached input tokens (Anthropic's `input_tokens`; OpenAI's prompt tokens minus cached). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  /** Anthropic only: OpenAI does not report cache writes. */
  cacheWriteTokens?: number;
}

/** A fault injected after `afterEvents` events of an otherwise normal stream. */
export type FakeStreamFault =
  /** The connection is closed without ending the body. */
  | { kind: 'cut'; afterEvents: number }
  /** An event whose data is not valid JSON, then the stream ends. */
  | { kind: 'malformed'; afterEvents: number }
  /** The provider's own in-stream error event (e.g. Anthropic `overloaded_error`), then the stream ends. */
  | { kind: 'error-event'; afterEvents: number; errorType: string; message: string };

export interface FakeTurn {
  type: 'turn';
  text?: string;
  toolCalls?: FakeToolCall[];
  usage?: FakeUsage;
  /** The model id reported back; defaults to the model the request asked for. */
  model?: string;
  streamFault?: FakeStreamFault;
  /** Waited before answering, so that calls overlap the way slow real calls do. */
  delayMilliseconds?: number;
  /** Answered only once this settles (after the delay): holds a call until others arrive. */
  heldUntil?: Promise<unknown>;
}

/** An HTTP error answer: status, headers and body (an object is sent as JSON, a string as is). */
export interface FakeHttpFault {
  type: 'fault';
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** Accepts the request and never answers, to exercise client timeouts. */
export interface FakeHang {
  type: 'hang';
}

export type FakeReply = FakeTurn | FakeHttpFault | FakeHang;

export const DEFAULT_FAKE_USAGE: FakeUsage = { inputTokens: 10, outputTokens: 10 };

export const fakeReply = {
  text(text: string, usage?: FakeUsage): FakeTurn {
    return { type: 'turn', text, usage };
  },
  toolCall(
    name: string,
    input: Record<string, unknown>,
    options: { text?: string; usage?: FakeUsage } = {},
  ): FakeTurn {
    return { type: 'turn', text: options.text, toolCalls: [{ name, input }], usage: options.usage };
  },
  turn(turn: Omit<FakeTurn, 'type'>): FakeTurn {
    return { type: 'turn', ...turn };
  },
  hang(): FakeHang {
    return { type: 'hang' };
  },
};

/** Answers in queue order; when the queue is empty, the default reply (if any) answers every call. */
export class FakeReplyQueue {
  readonly #replies: FakeReply[] = [];
  defaultReply: FakeReply | undefined;

  constructor(defaultReply?: FakeReply) {
    this.defaultReply = defaultReply;
  }

  enqueue(...replies: FakeReply[]): void {
    this.#replies.push(...replies);
  }

  next(): FakeReply | undefined {
    return this.#replies.shift() ?? this.defaultReply;
  }

  get pendingCount(): number {
    return this.#replies.length;
  }
}

/** Splits text into word-sized pieces (at most `maximumPieces`), as a model streams it. */
export function splitText(text: string, maximumPieces = 8): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  if (words.length === 0) return [];
  const size = Math.ceil(words.length / maximumPieces);
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += size)
    pieces.push(words.slice(index, index + size).join(''));
  return pieces;
}

/** Splits a JSON string into a few arbitrary pieces: partial JSON deltas, as providers send them. */
export function splitJson(json: string, pieces = 3): string[] {
  const size = Math.max(1, Math.ceil(json.length / pieces));
  const result: string[] = [];
  for (let index = 0; index < json.length; index += size) result.push(json.slice(index, index + size));
  return result;
}
