import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AllowListProxy, type RefusedConnection } from './allow-list-proxy.ts';
import { isHostAllowed, type SandboxNetworkMode } from './network-policy.ts';

/** What one sandbox gets of the network; `registries` carries the running proxy's folder. */
export type SandboxNetworkAccess =
  | { mode: 'none' }
  | { mode: 'full' }
  | {
      mode: 'registries';
      proxyDirectory: string;
      nodeExecutable: string;
      /** Names reached without the proxy: the sandbox's own loopback (a test server it started). */
      directHosts: readonly string[];
    };

/** Where the proxy's folder appears inside the sandbox (under the sandbox's own /run tmpfs). */
const PROXY_FOLDER_INSIDE = '/run/loki-network';
const FORWARDER_FILE = 'forwarder.cjs';
/** A port of the sandbox's own loopback: nothing else listens in its fresh network namespace. */
const FORWARDER_PORT = 18_080;
const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];
const PROXY_URL = `http://127.0.0.1:${String(FORWARDER_PORT)}`;

/**
 * Runs inside a `registries` sandbox, which has only a loopback interface: it accepts TCP on the
 * sandbox's loopback and pipes each connection to the proxy's unix socket, bound in from the
 * host. Tools only speak to proxies over TCP (HTTP_PROXY is a URL), hence the hop. Node runs it
 * because Loki already needs Node; socat, the usual choice, is often not installed.
 */
const FORWARDER_SOURCE = `'use strict';
const net = require('node:net');
const [socketPath, port] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream).pipe(client);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

/**
 * The network of a run's sandboxes: for `registries` the allow-list proxy, started once and
 * closed on dispose (when the run ends), so its lifetime is the run's.
 */
export class SandboxNetwork implements AsyncDisposable {
  readonly mode: SandboxNetworkMode;
  readonly allowedHosts: readonly string[];
  readonly access: SandboxNetworkAccess;
  readonly #proxy: AllowListProxy | undefined;

  private constructor(
    mode: SandboxNetworkMode,
    allowedHosts: readonly string[],
    access: SandboxNetworkAccess,
    proxy: AllowListProxy | undefined,
  ) {
    this.mode = mode;
    this.allowedHosts = allowedHosts;
    this.access = access;
    this.#proxy = proxy;
  }

  static async start(options: {
    mode: SandboxNetworkMode;
    allowedHosts: readonly string[];
    onRefused?: (refused: RefusedConnection) => void;
  }): Promise<SandboxNetwork> {
    const { mode, allowedHosts } = options;
    if (mode !== 'registries') return new SandboxNetwork(mode, allowedHosts, { mode }, undefined);
    const proxy = await AllowListProxy.start({
      allowedHosts,
      ...(options.onRefused === undefined ? {} : { onRefused: options.onRefused }),
    });
    await writeFile(join(proxy.directory, FORWARDER_FILE), FORWARDER_SOURCE, { mode: 0o444 });
    // By its real path: Node may be unpacked under /tmp, which the sandbox masks.
    const nodeExecutable = realpathSync(process.execPath);
    // A loopback name on the allow list (a model API served on the host's loopback) must go
    // through the proxy: straight, it would reach the sandbox's own empty loopback instead.
    const directHosts = LOOPBACK_NAMES.filter((name) => !isHostAllowed(name, allowedHosts));
    const access = { mode, proxyDirectory: proxy.directory, nodeExecutable, directHosts } as const;
    return new SandboxNetwork(mode, allowedHosts, access, proxy);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#proxy?.close();
  }
}

export interface NetworkSandboxParts {
  /** bwrap arguments: the network namespace, and for `registries` the proxy folder and Node. */
  bubblewrapArguments: string[];
  /** Shell lines run inside before the program, or none. */
  prelude: string[];
}

/**
 * The one place that turns a network policy into bubblewrap arguments, used both for
 * `run_command` (BubblewrapRunner) and for whole agent CLIs (wrapInBubblewrap).
 */
export function networkSandboxParts(access: SandboxNetworkAccess): NetworkSandboxParts {
  if (access.mode === 'none') return { bubblewrapArguments: ['--unshare-net'], prelude: [] };
  if (access.mode === 'full') {
    return {
      // /run is masked; DNS on systemd-resolved hosts lives there, so bring it back.
      bubblewrapArguments: [
        '--ro-bind-try',
        '/run/systemd/resolve',
        '/run/systemd/resolve',
        ...setEnvironment(installFriendlyEnvironment()),
      ],
      prelude: [],
    };
  }
  const ready = '/tmp/.loki-network-ready';
  const node = shellQuote(access.nodeExecutable);
  const forwarder = `${PROXY_FOLDER_INSIDE}/${FORWARDER_FILE}`;
  return {
    // prettier-ignore
    bubblewrapArguments: [
      '--unshare-net',
      '--ro-bind', access.proxyDirectory, PROXY_FOLDER_INSIDE,
      '--ro-bind', access.nodeExecutable, access.nodeExecutable,
      ...setEnvironment({ ...installFriendlyEnvironment(), ...proxyEnvironment(access.directHosts) }),
    ],
    // The program starts only once the forwarder listens, so its first request cannot race it.
    prelude: [
      `mkfifo ${ready}`,
      `${node} ${forwarder} ${PROXY_FOLDER_INSIDE}/proxy.sock ${String(FORWARDER_PORT)} </dev/null >${ready} 2>/dev/null &`,
      `read -r loki_network_ready <${ready}`,
      `rm -f ${ready}`,
      `[ "$loki_network_ready" = ready ] || { echo "loki: the sandbox's network forwarder did not start" >&2; exit 125; }`,
      'unset loki_network_ready',
    ],
  };
}

/** Every common tool's way of being told to use a proxy; loopback stays direct (local test servers). */
function proxyEnvironment(directHosts: readonly string[]): Record<string, string> {
  const noProxy = directHosts.join(',');
  return {
    HTTP_PROXY: PROXY_URL,
    HTTPS_PROXY: PROXY_URL,
    http_proxy: PROXY_URL,
    https_proxy: PROXY_URL,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
    npm_config_proxy: PROXY_URL,
    npm_config_https_proxy: PROXY_URL,
    // Node's own fetch and http ignore HTTP_PROXY unless told to read it (Node 24).
    NODE_USE_ENV_PROXY: '1',
  };
}

/** HOME is read-only in the sandbox, so package caches go to its private /tmp. */
function installFriendlyEnvironment(): Record<string, string> {
  return { npm_config_cache: '/tmp/.npm-cache' };
}

function setEnvironment(variables: Record<string, string>): string[] {
  return Object.entries(variables).flatMap(([name, value]) => ['--setenv', name, value]);
}

export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
