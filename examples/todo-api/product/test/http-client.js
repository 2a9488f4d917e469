import { request } from 'node:http';

/**
 * Sends one request to the server on 127.0.0.1:`port` and collects the whole answer. `body` is
 * sent as JSON unless it is already a string (to test malformed bodies); `json` is the parsed
 * answer, or undefined when it is empty or not JSON.
 */
export function send(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers }, (incoming) => {
      const chunks = [];
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const text = chunks.join('');
        let json;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: incoming.statusCode, headers: incoming.headers, text, json });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}
