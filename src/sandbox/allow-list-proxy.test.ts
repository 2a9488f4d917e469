import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLokiError } from '../errors/index.ts';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AllowListProxy, type RefusedConnection } from './allow-list-proxy.ts';
import { isHostAllowed, refusalMessage } from './network-policy.ts';

describe('isHostAllowed', () => {
  it('matches names exactly, case and trailing dot aside, and *.domain below the domain only', () => {
    const list = ['registry.npmjs.org', '*.example.com', '::1'];
    expect(isHostAllowed('Registry.NPMJS.org.', list)).toBe(true);
    expect(isHostAllowed('evil-registry.npmjs.org', list)).toBe(false);
    expect(isHostAllowed('registry.npmjs.org.evil.net', list)).toBe(false);
    expect(isHostAllowed('a.b.example.com', list)).toBe(true);
    expect(isHostAllowed('example.com', list)).toBe(false);
    expect(isHostAllowed('badexample.com', list)).toBe(false);
    expect(isHostAllowed('[::1]', list)).toBe(true);
    expect(isHostAllowed('', list)).toBe(false);
  });

  it('holds an entry with a port to that port', () => {
    const list = ['localhost:11434', '[::1]:8080', 'registry.npmjs.org'];
    expect(isHostAllowed('localhost', list, 11434)).toBe(true);
    expect(isHostAllowed('localhost', list, 5432)).toBe(false);
    expect(isHostAllowed('::1', list, 8080)).toBe(true);
    expect(isHostAllowed('::1', list, 22)).toBe(false);
    expect(isHostAllowed('registry.npmjs.org', list, 8443)).toBe(true);
    // Asked without a port (does any entry name the host?), as the sandbox does for NO_PROXY.
    expect(isHostAllowed('localhost', list)).toBe(true);
  });

  it('names the refused host and the key that would allow it, escaping what a command made up', () => {
    expect(refusalMessage('evil.example', 443)).toMatch(
      /evil\.example:443: .*Add it to sandbox\.allowedHosts/,
    );
    expect(refusalMessage('evil\u001b[2J', 80)).toContain('"evil\\u001b[2J":80');
  });
});

/** Sends one raw request over the proxy's unix socket and returns the first reply line and the socket. */
async function connectThrough(
  proxy: AllowListProxy,
  authority: string,
): Promise<{ status: number; socket: Socket }> {
  const connecting = request({ socketPath: proxy.socketPath, method: 'CONNECT', path: authority });
  connecting.end();
  const [response, socket] = (await once(connecting, 'connect')) as [{ statusCode: number }, Socket];
  return { status: response.statusCode, socket };
}

describe('AllowListProxy', () => {
  let echo: Server;
  let echoPort: number;
  let proxy: AllowListProxy;
  let refused: RefusedConnection[];

  beforeEach(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    echoPort = (echo.address() as AddressInfo).port;
    refused = [];
    proxy = await AllowListProxy.start({
      allowedHosts: ['127.0.0.1'],
      onRefused: (item) => refused.push(item),
    });
  });

  afterEach(async () => {
    await proxy.close();
    echo.close();
  });

  it('tunnels CONNECT to an allowed host', async () => {
    const { status, socket } = await connectThrough(proxy, `127.0.0.1:${String(echoPort)}`);
    expect(status).toBe(200);
    socket.write('ping');
    const [data] = (await once(socket, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
    socket.destroy();
    expect(refused).toEqual([]);
  });

  it('refuses CONNECT to any other host with a 403 and tells who asked', async () => {
    const connecting = request({
      socketPath: proxy.socketPath,
      method: 'CONNECT',
      path: `localhost:${String(echoPort)}`,
    });
    connecting.end();
    const [response] = (await once(connecting, 'connect')) as [{ statusCode: number }];
    expect(response.statusCode).toBe(403);
    expect(refused).toEqual([
      expect.objectContaining({
        host: 'localhost',
        port: echoPort,
        method: 'CONNECT',
        message: expect.stringContaining('sandbox.allowedHosts'),
      }),
    ]);
  });

  it('ends open tunnels and removes its socket when closed', async () => {
    const { socket } = await connectThrough(proxy, `127.0.0.1:${String(echoPort)}`);
    const closed = once(socket, 'close');
    await proxy.close();
    await closed;
    const again = request({ socketPath: proxy.socketPath, method: 'CONNECT', path: '127.0.0.1:1' });
    again.end();
    const [error] = (await once(again, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ENOENT');
  });

  it('fails with a clear error when its socket path would be too long, leaving nothing behind', async () => {
    const deep = await mkdtemp(join(tmpdir(), `loki-deep-${'x'.repeat(100)}-`));
    try {
      const error = await AllowListProxy.start({ allowedHosts: [], temporaryDirectory: deep }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(isLokiError(error) && error.code).toBe('SANDBOX_PROXY_FAILED');
      expect((error as Error).message).toMatch(/too long.*Set TMPDIR to a short writable folder/);
      expect(await readdir(deep)).toEqual([]);
    } finally {
      await rm(deep, { recursive: true, force: true });
    }
  });
});
