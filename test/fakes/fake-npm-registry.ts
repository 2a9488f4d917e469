/**
 * A tiny npm registry on loopback: a real HTTP server answering the two requests `npm install`
 * makes for a package (its packument, then its tarball), with a real gzipped tarball whose
 * integrity npm checks.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeNpmRegistry extends AsyncDisposable {
  /** `http://<address>:<port>/`, to pass as `--registry`. */
  url: string;
  packageName: string;
  /** Every request path served, in order. */
  requests: string[];
}

export async function startFakeNpmRegistry(options: {
  address: string;
  packageName: string;
  /** What `require(packageName)` returns. */
  exportedText: string;
  /**
   * What `npm audit` is told (the bulk advisory endpoint's answer: package name → advisories);
   * none by default.
   */
  advisories?: Record<string, unknown[]>;
}): Promise<FakeNpmRegistry> {
  const { address, packageName } = options;
  const tarball = await packTarball(packageName, options.exportedText);
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://registry').pathname;
    requests.push(path);
    if (path === '/-/npm/v1/security/advisories/bulk') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(options.advisories ?? {}));
    } else if (path === `/${packageName}`) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(packument(baseUrl(), packageName, tarball)));
    } else if (path === tarballPath(packageName)) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(tarball);
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":"not found"}');
    }
  });
  server.listen(0, address);
  await once(server, 'listening');
  const baseUrl = () => `http://${address}:${String((server.address() as AddressInfo).port)}`;
  return {
    url: `${baseUrl()}/`,
    packageName,
    requests,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function tarballPath(packageName: string): string {
  return `/${packageName}/-/${packageName}-1.0.0.tgz`;
}

function packument(baseUrl: string, packageName: string, tarball: Buffer) {
  return {
    name: packageName,
    'dist-tags': { latest: '1.0.0' },
    versions: {
      '1.0.0': {
        name: packageName,
        version: '1.0.0',
        main: 'index.js',
        dist: {
          tarball: `${baseUrl}${tarballPath(packageName)}`,
          shasum: createHash('sha1').update(tarball).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
        },
      },
    },
  };
}

/** Packs `package/` the way `npm pack` lays it out, with the system's tar. */
async function packTarball(packageName: string, exportedText: string): Promise<Buffer> {
  const directory = await mkdtemp(join(tmpdir(), 'loki-fake-npm-'));
  try {
    await mkdir(join(directory, 'package'));
    const manifest = { name: packageName, version: '1.0.0', main: 'index.js' };
    await writeFile(join(directory, 'package', 'package.json'), JSON.stringify(manifest));
    await writeFile(
      join(directory, 'package', 'index.js'),
      `module.exports = ${JSON.stringify(exportedText)};\n`,
    );
    execFileSync('tar', ['-czf', join(directory, 'package.tgz'), '-C', directory, 'package']);
    return await readFile(join(directory, 'package.tgz'));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
