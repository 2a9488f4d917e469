/**
 * A real, throwaway PostgreSQL server for tests: a new cluster in a temporary directory, listening
 * on 127.0.0.1 at a free port (and a unix socket in the same directory), removed by `stop`.
 *
 * PostgreSQL refuses to run as root, and tests run as root in some places: there the cluster
 * belongs to the `postgres` user (the Debian package creates it) and every server command runs as
 * that user. Where no PostgreSQL binaries are installed, `findPostgresBinaries` says why, and the
 * tests that need a server skip with that reason (CI installs the `postgresql` package).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const run = promisify(execFile);
const SUPERUSER = 'loki';

export type PostgresBinaries = { directory: string } | { missing: string };

/** The newest installed PostgreSQL server binaries (LOKI_TEST_POSTGRES_BIN overrides). */
export function findPostgresBinaries(): PostgresBinaries {
  const given = process.env.LOKI_TEST_POSTGRES_BIN;
  const candidates =
    given !== undefined && given !== ''
      ? [given]
      : existsSync('/usr/lib/postgresql')
        ? readdirSync('/usr/lib/postgresql')
            .filter((version) => /^\d+$/.test(version))
            .sort((left, right) => Number(right) - Number(left))
            .map((version) => join('/usr/lib/postgresql', version, 'bin'))
        : [];
  const directory = candidates.find((candidate) => existsSync(join(candidate, 'initdb')));
  if (directory === undefined) {
    return {
      missing:
        'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or LOKI_TEST_POSTGRES_BIN; install the postgresql package to run these tests',
    };
  }
  return { directory };
}

/**
 * A throwaway server for the enclosing `describe`: started before its tests (before the hooks
 * registered after this call), stopped after them. Returns the server, once started.
 */
export function usePostgresServer(binaries: PostgresBinaries): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    if ('directory' in binaries) server = await PostgresServer.start(binaries.directory);
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('the test PostgreSQL server is not running');
    return server;
  };
}

export class PostgresServer {
  readonly port: number;
  readonly #directory: string;
  readonly #binaries: string;
  readonly #owner: { uid: number; gid: number } | null;
  #databases = 0;

  private constructor(
    directory: string,
    binaries: string,
    port: number,
    owner: { uid: number; gid: number } | null,
  ) {
    this.#directory = directory;
    this.#binaries = binaries;
    this.port = port;
    this.#owner = owner;
  }

  /** Creates the cluster and starts the server; resolves once it accepts connections. */
  /**
   * `isDurable`: keep PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on),
   * for benchmarks; tests turn them off.
   */
  static async start(binaries: string, options: { isDurable?: boolean } = {}): Promise<PostgresServer> {
    const directory = mkdtempSync(join(tmpdir(), 'loki-postgres-'));
    const owner = process.getuid?.() === 0 ? postgresUser() : null;
    if (owner !== null) chownSync(directory, owner.uid, owner.gid);
    const server = new PostgresServer(directory, binaries, await freePort(), owner);
    try {
      await server.#command('initdb', [
        '-D',
        server.#dataDirectory,
        '-U',
        SUPERUSER,
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--no-sync',
        '--no-instructions',
      ]);
      const settings = [
        `-p ${server.port}`,
        `-k ${directory}`,
        '-c listen_addresses=127.0.0.1',
        // Throwaway data: durability buys nothing here and costs the loaded test machine a lot.
        ...(options.isDurable === true
          ? []
          : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
        '-c max_connections=400',
      ].join(' ');
      await server.#command('pg_ctl', [
        '-D',
        server.#dataDirectory,
        '-l',
        server.#logFile,
        '-o',
        settings,
        '-w',
        '-t',
        '120',
        'start',
      ]);
    } catch (error) {
      throw new Error(`the test PostgreSQL server did not start; its log:\n${server.log()}`, {
        cause: error,
      });
    }
    return server;
  }

  get #dataDirectory(): string {
    return join(this.#directory, 'data');
  }

  get #logFile(): string {
    return join(this.#directory, 'server.log');
  }

  /** What the server logged so far (for a failure message). */
  log(): string {
    return existsSync(this.#logFile) ? readFileSync(this.#logFile, 'utf8') : '(no log)';
  }

  urlOf(database: string): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new, empty database on this server; returns its URL. */
  async createDatabase(prefix = 'loki_test'): Promise<string> {
    this.#databases += 1;
    const name = `${prefix}_${this.#databases}`;
    const client = new pg.Client({ connectionString: this.urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.urlOf(name);
  }

  /**
   * A new, empty schema in `database` (which must exist); returns a URL whose connections use it
   * (search_path). Far quicker than a database per store, which a suite opening one store per
   * test would wait on.
   */
  async createSchema(database: string, prefix = 'loki_test'): Promise<string> {
    this.#databases += 1;
    const name = `${prefix}_${this.#databases}`;
    const client = new pg.Client({ connectionString: this.urlOf(database) });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${name}`);
    } finally {
      await client.end();
    }
    return `${this.urlOf(database)}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
  }

  /** Stops the server at once (its data is thrown away) and removes the cluster. */
  async stop(): Promise<void> {
    try {
      await this.#command('pg_ctl', ['-D', this.#dataDirectory, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(this.#directory, { recursive: true, force: true });
    }
  }

  async #command(program: string, commandArguments: readonly string[]): Promise<void> {
    const path = join(this.#binaries, program);
    const [file, argv] =
      this.#owner === null
        ? [path, commandArguments]
        : ['runuser', ['-u', 'postgres', '--', path, ...commandArguments]];
    await run(file, [...argv], { cwd: this.#directory });
  }
}

function postgresUser(): { uid: number; gid: number } {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'));
  const fields = entry?.split(':');
  if (fields === undefined) {
    throw new Error(
      'running as root, and there is no postgres user to run the test server as (the postgresql package creates it)',
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port from the probe'));
        else resolve(address.port);
      });
    });
  });
}
