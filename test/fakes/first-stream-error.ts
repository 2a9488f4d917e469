/**
 * The first error of a `streamText` run, however the AI SDK surfaced it: an `error` part in the
 * full stream (HTTP errors, in-stream error events, malformed chunks), an `abort` part's reason
 * (a timeout or cancellation), or a rejection of the stream itself (a connection cut mid-response).
 * Returns undefined when the run succeeded.
 */
export async function firstStreamError(result: {
  fullStream: AsyncIterable<{ type: string }>;
}): Promise<unknown> {
  try {
    for await (const part of result.fullStream) {
      if (part.type === 'error' && 'error' in part) return part.error;
      if (part.type === 'abort') return 'reason' in part ? part.reason : 'AbortError: aborted';
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * For `streamText({ onError })` in tests that assert errors through the stream: without it the
 * AI SDK also prints every provider error to the console, burying real failures in noise.
 */
export function ignoreErrors(): void {}
