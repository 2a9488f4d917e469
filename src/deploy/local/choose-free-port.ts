import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port the kernel just reported free on 127.0.0.1; another process could still take it first. */
export async function chooseFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string')
    throw new Error('no TCP address for a listening server');
  return address.port;
}
