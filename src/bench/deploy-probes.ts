import { Agent, get } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/** What one GET through the proxy got: the body of a 2xx answer, else why it failed. */
type Answer = { ok: true; body: string } | { ok: false; failure: string };

/**
 * One GET on `agent` (keep-alive: a user's client reuses its connection to the proxy, and a switch
 * must not break such connections either). A non-2xx status or a socket error is a failure.
 */
export function getOnce(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const request = get(url, { agent, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300 ? { ok: true, body } : { ok: false, failure: `${status} ${body}` },
        );
      });
      response.on('error', (error) => resolve({ ok: false, failure: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error) => resolve({ ok: false, failure: error.message }));
  });
}

/** Each load loop's pause between requests. */
export const LOAD_PAUSE_MILLISECONDS = 10;

export interface LoadCount {
  ok: number;
  failed: number;
  /** The first few failures, word for word. */
  failures: string[];
}

/**
 * A light load: `concurrency` loops of GET through the proxy until stopped, each answer counted.
 * Light on purpose: on a small machine a heavy load would measure the CPU it takes from the switch.
 */
export function startLoad(url: string, concurrency: number): { stop: () => Promise<LoadCount> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const count: LoadCount = { ok: 0, failed: 0, failures: [] };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const answer = await getOnce(url, agent);
      if (answer.ok) count.ok += 1;
      else {
        count.failed += 1;
        if (count.failures.length < 10) count.failures.push(answer.failure);
      }
      // Apart: a steady trickle through every switch, not a flood that takes the CPU the switch needs.
      await delay(LOAD_PAUSE_MILLISECONDS);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return count;
    },
  };
}

/**
 * Polls `url` every `intervalMilliseconds` until it answers `body`; resolves with the
 * performance.now() of the first such answer's arrival, or null when `deadline` (a performance.now()
 * value) passes first. Its own connection pool: the load's sockets must not queue its requests.
 */
export async function waitForBody(
  url: string,
  body: string,
  options: { intervalMilliseconds: number; deadline: number },
): Promise<number | null> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (performance.now() < options.deadline) {
      const answer = await getOnce(url, agent);
      if (answer.ok && answer.body === body) return performance.now();
      await delay(options.intervalMilliseconds);
    }
    return null;
  } finally {
    agent.destroy();
  }
}
