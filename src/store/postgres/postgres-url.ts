import { usageError, type LokiError } from '../../errors/index.ts';

const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** True when `target` names a PostgreSQL store rather than a file (`--store`, LOKI_STORE_URL, config). */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target.trim());
}

/**
 * Checks a store URL before any connection is tried, so a typo is a usage error naming the form,
 * not a network error. Returns the URL as `pg` takes it.
 */
export function parsePostgresUrl(target: string): string {
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    throw invalidUrl(target, 'it is not a URL');
  }
  if (!SCHEMES.has(url.protocol)) throw invalidUrl(target, `its scheme is ${url.protocol} `);
  if (url.hostname === '' && !url.searchParams.has('host')) throw invalidUrl(target, 'it names no host');
  if (url.pathname.length <= 1) throw invalidUrl(target, 'it names no database');
  return url.toString();
}

/** The URL with its password replaced: what messages, events and `loki status` show. */
export function redactPostgresUrl(target: string): string {
  try {
    const url = new URL(target.trim());
    if (url.password !== '') url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (key.toLowerCase() === 'password') url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return '(an unparseable store URL)';
  }
}

function invalidUrl(target: string, reason: string): LokiError {
  return usageError(
    'STORE_URL_INVALID',
    `the store URL ${redactPostgresUrl(target)} is not usable: ${reason}; write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (in --store, LOKI_STORE_URL or the config key store)`,
    { store: redactPostgresUrl(target) },
  );
}
