import { request } from 'node:http';

export interface DashboardResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface DashboardRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * One HTTP request to a dashboard on 127.0.0.1, with full control of the headers (fetch would not
 * let a test send a foreign Host, which is exactly what a DNS-rebinding page sends).
 */
export function dashboardRequest(port: number, options: DashboardRequest): Promise<DashboardResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export interface ServerSentEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * An open event stream: `next()` resolves with the next message as the server sent it. Closing
 * it ends the connection.
 */
export class EventStreamReader implements Disposable {
  readonly #messages: ServerSentEvent[] = [];
  readonly #waiting: Array<(message: ServerSentEvent) => void> = [];
  readonly #close: () => void;
  #buffer = '';

  constructor(port: number, headers: Record<string, string>, path = '/api/events') {
    const outgoing = request(
      { host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (response) => {
        response.setEncoding('utf8').on('data', (chunk: string) => this.#receive(chunk));
        // The test closes the stream; a reset that follows is expected.
        response.on('error', () => undefined);
      },
    );
    outgoing.on('error', () => undefined);
    outgoing.end();
    this.#close = () => outgoing.destroy();
  }

  next(timeoutMilliseconds = 30_000): Promise<ServerSentEvent> {
    const ready = this.#messages.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no server-sent event came')), timeoutMilliseconds);
      this.#waiting.push((message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end < 0) return;
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const message: ServerSentEvent = { id: null, event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') message.id = value;
        else if (field === 'event') message.event = value;
        else if (field === 'data') data.push(value);
      }
      message.data = data.join('\n');
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.#messages.push(message);
      else waiter(message);
    }
  }

  [Symbol.dispose](): void {
    this.#close();
  }
}
