import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { usageError } from '../../errors/index.ts';
import { EventBus, type EventBusStore, type LokiEvent } from '../../events/index.ts';
import type { SharedWorkspace } from './shared-workspace.ts';

/** How long a browser waits before it reconnects (and resumes with Last-Event-ID). */
const RECONNECT_MILLISECONDS = 1000;

/**
 * What wakes a stream: the commits of the run this process serves (`loki run` hands its store's
 * after-commit signal to the dashboard). The stream still reads its own connection; the signal only
 * says "read now".
 */
export type CommitSource = Pick<EventBusStore, 'onEventsAppended'>;

/**
 * Woken by the run's commits: a burst of commits (one agent step writes several) is read once, at
 * most 20 ms after the first, and a stream whose run writes nothing reads once a second, only for
 * what other processes write (`loki pause`, `loki add`). A page that watches an idle run costs
 * one indexed query a second.
 */
const WOKEN_STREAM_READS = { pollIntervalMilliseconds: 1000, minimumReadIntervalMilliseconds: 20 };
/**
 * Without the signal (`loki dashboard` on a workspace another process writes) nothing in this
 * process hears the commits: the stream polls, finding new events at most 50 ms after their commit,
 * inside the dashboard's 100 ms from event to screen; a read that finds nothing is one indexed query.
 */
const POLLED_STREAM_READS = { pollIntervalMilliseconds: 50 };

/**
 * The workspace's events as Server-Sent Events, each with its sequence number as its id. A
 * browser that reconnects sends the last id it saw as `Last-Event-ID` and gets exactly what came
 * after it (the bus replays from the store, then follows): nothing lost, nothing twice. `?after=N`
 * does the same for a first connection (the page starts after the snapshot it loaded).
 * `connections` aborts every stream when the server closes; `wakeUps.commits`, when given, wakes them.
 */
export async function streamEvents(
  c: Context,
  shared: SharedWorkspace,
  connections: AbortSignal,
  wakeUps: StreamWakeUps,
): Promise<Response> {
  const afterSequence = parseSequence(c.req.header('last-event-id') ?? c.req.query('after') ?? '0');
  const { store } = await shared.open();
  const bus = streamBus(store, wakeUps);
  return streamSSE(c, async (stream) => {
    const stopper = new AbortController();
    const stop = () => stopper.abort();
    connections.addEventListener('abort', stop, { once: true });
    stream.onAbort(stop);
    try {
      await stream.writeSSE({ event: 'ready', data: String(afterSequence), retry: RECONNECT_MILLISECONDS });
      // One write per read, however many events it found: a busy run's reads hold several.
      for await (const batch of bus.subscribeBatches({ afterSequence, signal: stopper.signal })) {
        await stream.write(batch.map(eventMessage).join(''));
      }
    } finally {
      connections.removeEventListener('abort', stop);
    }
  });
}

export interface StreamWakeUps {
  commits: CommitSource | null;
  /** Overrides the poll interval of the reads below (tests). */
  pollMilliseconds: number | null;
}

function streamBus(store: EventBusStore, { commits, pollMilliseconds }: StreamWakeUps): EventBus {
  const poll = pollMilliseconds === null ? {} : { pollIntervalMilliseconds: pollMilliseconds };
  if (commits === null) return new EventBus(store, { ...POLLED_STREAM_READS, ...poll });
  const woken: EventBusStore = {
    listEvents: (filter) => store.listEvents(filter),
    onEventsAppended: (listener) => commits.onEventsAppended(listener),
  };
  return new EventBus(woken, { ...WOKEN_STREAM_READS, ...poll });
}

/**
 * An event as one Server-Sent Events message, as writeSSE would write it: JSON holds no line
 * break, so the data is one `data:` line.
 */
function eventMessage(event: LokiEvent): string {
  return `id: ${event.sequence}\ndata: ${JSON.stringify(event)}\n\n`;
}

function parseSequence(text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw usageError('DASHBOARD_INVALID_REQUEST', `"${text.slice(0, 40)}" is not an event sequence number`);
  }
  return Number(text);
}
