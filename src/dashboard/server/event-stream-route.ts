import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { usageError } from '../../errors/index.ts';
import { EventBus } from '../../events/index.ts';
import type { SharedWorkspace } from './shared-workspace.ts';

/** How long a browser waits before it reconnects (and resumes with Last-Event-ID). */
const RECONNECT_MILLISECONDS = 1000;
/**
 * The stream reads its own connection to the store, which hears no commit of the run's: it polls.
 * A read finds new events at most 50 ms (poll + pause) after their commit, well inside the
 * dashboard's 100 ms from event to screen, and a read that finds nothing is one indexed query.
 */
const STREAM_READS = { pollIntervalMilliseconds: 25, minimumReadIntervalMilliseconds: 25 };

/**
 * The workspace's events as Server-Sent Events, each with its sequence number as its id. A
 * browser that reconnects sends the last id it saw as `Last-Event-ID` and gets exactly what came
 * after it (the bus replays from the store, then follows): nothing lost, nothing twice. `?after=N`
 * does the same for a first connection (the page starts after the snapshot it loaded).
 * `connections` aborts every stream when the server closes.
 */
export async function streamEvents(
  c: Context,
  shared: SharedWorkspace,
  connections: AbortSignal,
): Promise<Response> {
  const afterSequence = parseSequence(c.req.header('last-event-id') ?? c.req.query('after') ?? '0');
  const workspace = await shared.open();
  const bus = new EventBus(workspace.store, STREAM_READS);
  return streamSSE(c, async (stream) => {
    const stopper = new AbortController();
    const stop = () => stopper.abort();
    connections.addEventListener('abort', stop, { once: true });
    stream.onAbort(stop);
    try {
      await stream.writeSSE({ event: 'ready', data: String(afterSequence), retry: RECONNECT_MILLISECONDS });
      for await (const event of bus.subscribe({ afterSequence, signal: stopper.signal })) {
        await stream.writeSSE({ id: String(event.sequence), data: JSON.stringify(event) });
      }
    } finally {
      connections.removeEventListener('abort', stop);
    }
  });
}

function parseSequence(text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw usageError('DASHBOARD_INVALID_REQUEST', `"${text.slice(0, 40)}" is not an event sequence number`);
  }
  return Number(text);
}
