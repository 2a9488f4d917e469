/**
 * How much network a sandboxed command gets:
 * - `none`: its own empty network namespace (loopback only);
 * - `registries`: its own network namespace whose only way out is Loki's allow-list proxy, which
 *   lets through the package registries and the model API host (see `allowListProxy`);
 * - `full`: the host's network, loopback services included.
 */
export type SandboxNetworkMode = 'none' | 'registries' | 'full';

export const SANDBOX_NETWORK_MODES: readonly SandboxNetworkMode[] = ['none', 'registries', 'full'];

/** The config keys a refusal names, so that the message says exactly what would allow the host. */
export const NETWORK_MODE_CONFIG_KEY = 'sandbox.network';
export const ALLOWED_HOSTS_CONFIG_KEY = 'sandbox.allowedHosts';

/** A host name in the form the allow list compares: lower case, no trailing dot, no IPv6 brackets. */
export function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/**
 * Whether a connection to `host` on `port` is allowed. An entry is a host name or address,
 * matched exactly, or `*.example.com`, which matches every name under example.com but not
 * example.com itself (list both to allow both). An entry may name a port (`localhost:11434`,
 * `[::1]:8080`), and then allows that port only: a model API on the host's loopback must not open
 * every other service there. Without a port any port is allowed: registries and mirrors are
 * served on 80 and 443, and local registries on whatever port they were given.
 */
export function isHostAllowed(host: string, allowedHosts: readonly string[], port?: number): boolean {
  const wanted = normalizeHost(host);
  if (wanted === '') return false;
  return allowedHosts.some((text) => {
    const entry = parseEntry(text);
    if (port !== undefined && entry.port !== undefined && entry.port !== port) return false;
    if (entry.host.startsWith('*.')) {
      return wanted.endsWith(entry.host.slice(1)) && wanted.length > entry.host.length - 1;
    }
    return wanted === entry.host;
  });
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`; a bare IPv6 address (several colons) has no port. */
function parseEntry(text: string): { host: string; port?: number } {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(trimmed);
  if (bracketed !== null) {
    const port = bracketed[2];
    return { host: normalizeHost(bracketed[1] ?? ''), ...(port === undefined ? {} : { port: Number(port) }) };
  }
  const withPort = /^([^:]+):(\d{1,5})$/.exec(trimmed);
  if (withPort !== null) return { host: normalizeHost(withPort[1] ?? ''), port: Number(withPort[2]) };
  return { host: normalizeHost(trimmed) };
}

/** The sentence a refused command and the log both see: the host, and the key that would allow it. */
export function refusalMessage(host: string, port: number): string {
  // The name comes from a sandboxed command: shown quoted and escaped unless it is plainly a name,
  // so that it cannot smuggle terminal control sequences into Loki's output.
  const shown = /^[a-z0-9.:*_-]+$/i.test(host) ? host : JSON.stringify(host);
  return (
    `Loki's sandbox refused a connection to ${shown}:${String(port)}: the host is not in ${ALLOWED_HOSTS_CONFIG_KEY} ` +
    `(${NETWORK_MODE_CONFIG_KEY} is registries). Add it to ${ALLOWED_HOSTS_CONFIG_KEY}, or set ${NETWORK_MODE_CONFIG_KEY} to full.`
  );
}
