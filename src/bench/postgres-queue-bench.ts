/**
 * `npm run bench -- queue --store postgres`: claim+complete throughput of the PostgreSQL store with
 * 8 concurrent worker processes, each completing tasks with their events through TaskQueue and
 * PostgresStore, against the bare FOR UPDATE SKIP LOCKED floor (plain SQL, same tables, same server,
 * same run), with the double claims counted. Writes bench/results/queue-postgres.json.
 *
 * The server: LOKI_STORE_URL when set (each run works in a schema of its own, dropped after),
 * otherwise a throwaway server this bench starts, with PostgreSQL's durable defaults (fsync and
 * synchronous_commit on: the test server turns them off, which would flatter the figures).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { findPostgresBinaries, PostgresServer } from '../../test/support/postgres-server.ts';
import { TaskQueue } from '../queue/index.ts';
import { PostgresStore } from '../store/index.ts';
import { type BenchEnvironment, describeEnvironment } from './bench-environment.ts';
import { median, roundTo } from './timing.ts';

export const POSTGRES_QUEUE_TARGETS = { claimCompleteMinimumOpsPerSecond: 1_500, workers: 8 };

const TASKS_PER_RUN = 5_000;
const RUNS_PER_MODE = 3;
const ENQUEUE_BATCH_SIZE = 1_000;
const WORKER_SCRIPT = join(import.meta.dirname, 'postgres-queue-worker.ts');

/** The store, the floor, and two designs it is compared with (postgres-queue-worker.ts). */
type Mode = 'store' | 'bare' | 'bare-pair' | 'bare-pair-ordered';

export interface PostgresThroughputRun {
  seconds: number;
  opsPerSecond: number;
  doubleClaims: number;
  /** 1-minute load average of this machine just before and just after the timed part. */
  loadAverageBefore: number;
  loadAverageAfter: number;
}

export interface PostgresThroughput {
  taskCount: number;
  workers: number;
  runs: PostgresThroughputRun[];
  medianOpsPerSecond: number;
  doubleClaims: number;
}

export interface PostgresServerFacts {
  startedByBench: boolean;
  version: string;
  settings: Record<string, string>;
}

/** One run: fresh tasks in a fresh schema, 8 worker processes from `go` until all are done. */
async function measureRun(
  adminUrl: string,
  mode: Mode,
  runNumber: number,
  commit: Commit,
): Promise<PostgresThroughputRun> {
  const schema = `loki_bench_${mode.replaceAll('-', '_')}_${commit}_${runNumber}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-postgres-'));
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const url = withSession(adminUrl, schema, commit);
    await prepareTasks(url);
    // The floor numbers its events from a plain sequence, after those the enqueues wrote.
    if (mode === 'bare' || mode === 'bare-pair') {
      await admin.query(`CREATE SEQUENCE ${schema}.bench_event_sequence`);
      await admin.query(
        `SELECT setval('${schema}.bench_event_sequence', (SELECT MAX(sequence) FROM ${schema}.events))`,
      );
    }
    const workers = Array.from({ length: POSTGRES_QUEUE_TARGETS.workers }, (_, index) =>
      startWorker(mode, url, `w${index + 1}`, join(directory, `w${index + 1}.json`)),
    );
    await Promise.all(workers.map((worker) => worker.ready));
    const loadAverageBefore = loadavg()[0] ?? 0;
    const start = performance.now();
    for (const worker of workers) worker.child.stdin?.end('go\n');
    await Promise.all(workers.map((worker) => worker.done));
    const milliseconds = performance.now() - start;
    const loadAverageAfter = loadavg()[0] ?? 0;
    const claimed = workers.flatMap((worker) => JSON.parse(readFileSync(worker.idsFile, 'utf8')) as string[]);
    const doubleClaims = claimed.length - new Set(claimed).size;
    await checkAllCompletedOnce(admin, schema, mode, claimed.length);
    return {
      seconds: roundTo(milliseconds / 1000, 3),
      opsPerSecond: Math.round(TASKS_PER_RUN / (milliseconds / 1000)),
      doubleClaims,
      loadAverageBefore: roundTo(loadAverageBefore, 2),
      loadAverageAfter: roundTo(loadAverageAfter, 2),
    };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * `durable`: the server's own commit setting (a throwaway server's is PostgreSQL's default, on: a
 * commit waits for its WAL flush). `asynchronous`: synchronous_commit off for the bench's sessions
 * only: a commit returns before the flush (a server crash may lose the last moments, never corrupts),
 * which takes the disk's flush time out of the figures and leaves the store's own cost.
 */
type Commit = 'durable' | 'asynchronous';

function withSession(adminUrl: string, schema: string, commit: Commit): string {
  const url = new URL(adminUrl);
  const options = [
    `-c search_path=${schema}`,
    ...(commit === 'asynchronous' ? ['-c synchronous_commit=off'] : []),
  ];
  url.searchParams.set('options', options.join(' '));
  return url.toString();
}

/** The tasks, written through the queue like production (the store also creates the schema). */
async function prepareTasks(url: string): Promise<void> {
  await using store = await PostgresStore.open(url, { poolSize: 1 });
  const queue = new TaskQueue(store);
  for (let start = 0; start < TASKS_PER_RUN; start += ENQUEUE_BATCH_SIZE) {
    const size = Math.min(ENQUEUE_BATCH_SIZE, TASKS_PER_RUN - start);
    await queue.enqueueMany(
      Array.from({ length: size }, (_, index) => ({ type: 'bench', title: `bench task ${start + index}` })),
    );
  }
}

/** Every task completed by exactly one claim, with one claim and one completion event each. */
async function checkAllCompletedOnce(admin: pg.Client, schema: string, mode: Mode, claimed: number) {
  const row = (
    await admin.query(
      `SELECT COUNT(*) FILTER (WHERE status = 'completed' AND attempt_count = 1)::integer AS completed_once,
         (SELECT COUNT(*) FROM ${schema}.events WHERE type = 'task.claimed')::integer AS claim_events,
         (SELECT COUNT(*) FROM ${schema}.events WHERE type = 'task.completed')::integer AS complete_events
       FROM ${schema}.tasks`,
    )
  ).rows[0] as { completed_once: number; claim_events: number; complete_events: number };
  const expected = {
    completed_once: TASKS_PER_RUN,
    claim_events: TASKS_PER_RUN,
    complete_events: TASKS_PER_RUN,
  };
  if (claimed !== TASKS_PER_RUN || JSON.stringify(row) !== JSON.stringify(expected)) {
    throw new Error(
      `${mode} run: ${claimed} claims reported and ${JSON.stringify(row)} in the store; expected ` +
        `${TASKS_PER_RUN} of each: the run did not complete every task exactly once`,
    );
  }
}

interface BenchWorker {
  child: ChildProcess;
  idsFile: string;
  ready: Promise<void>;
  done: Promise<void>;
}

function startWorker(mode: Mode, url: string, workerId: string, idsFile: string): BenchWorker {
  const child = spawn(process.execPath, [WORKER_SCRIPT, mode, url, workerId, idsFile], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
    });
    void exited.then((code) => reject(new Error(`bench worker ${workerId} exited (${code}) before "ready"`)));
  });
  const done = exited.then((code) => {
    if (code !== 0) throw new Error(`bench worker ${workerId} (${mode}) exited with ${code}`);
  });
  return { child, idsFile, ready, done };
}

function summarize(runs: PostgresThroughputRun[]): PostgresThroughput {
  return {
    taskCount: TASKS_PER_RUN,
    workers: POSTGRES_QUEUE_TARGETS.workers,
    runs,
    medianOpsPerSecond: median(runs.map((run) => run.opsPerSecond)),
    doubleClaims: runs.reduce((sum, run) => sum + run.doubleClaims, 0),
  };
}

async function describeServer(adminUrl: string, startedByBench: boolean): Promise<PostgresServerFacts> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const settings: Record<string, string> = {};
    for (const name of [
      'fsync',
      'synchronous_commit',
      'full_page_writes',
      'shared_buffers',
      'max_connections',
    ]) {
      settings[name] = String((await client.query(`SHOW ${name}`)).rows[0]?.[name]);
    }
    const version = String((await client.query('SHOW server_version')).rows[0]?.server_version);
    return { startedByBench, version, settings };
  } finally {
    await client.end();
  }
}

export interface CommitMeasurement {
  store: PostgresThroughput;
  bare: PostgresThroughput;
  /** One statement per pair (complete the task held, claim the next): without and with commit order. */
  pairPlain: PostgresThroughput;
  pairOrdered: PostgresThroughput;
}

/** Store and floor runs alternate, so that a change of load on the machine hits both alike. */
async function measureCommitSetting(
  log: (message: string) => void,
  adminUrl: string,
  commit: Commit,
): Promise<CommitMeasurement> {
  const modes: readonly Mode[] = ['store', 'bare', 'bare-pair', 'bare-pair-ordered'];
  const runs = new Map<Mode, PostgresThroughputRun[]>(modes.map((mode) => [mode, []]));
  for (let run = 1; run <= RUNS_PER_MODE; run += 1) {
    for (const mode of modes) {
      log(
        `${commit} commits, run ${run}/${RUNS_PER_MODE}: ${mode}, ${TASKS_PER_RUN} tasks, ${POSTGRES_QUEUE_TARGETS.workers} workers`,
      );
      runs.get(mode)?.push(await measureRun(adminUrl, mode, run, commit));
    }
  }
  const of = (mode: Mode) => summarize(runs.get(mode) ?? []);
  return {
    store: of('store'),
    bare: of('bare'),
    pairPlain: of('bare-pair'),
    pairOrdered: of('bare-pair-ordered'),
  };
}

export async function measurePostgresQueue(
  log: (message: string) => void,
  storeUrl: string | undefined,
): Promise<{ server: PostgresServerFacts; durable: CommitMeasurement; asynchronous: CommitMeasurement }> {
  let server: PostgresServer | undefined;
  let adminUrl = storeUrl;
  if (adminUrl === undefined) {
    const binaries = findPostgresBinaries();
    if ('missing' in binaries) throw new Error(`cannot start a PostgreSQL server: ${binaries.missing}`);
    log('starting a throwaway PostgreSQL server (durable settings)');
    server = await PostgresServer.start(binaries.directory, { isDurable: true });
    adminUrl = await server.createDatabase('loki_bench');
  }
  try {
    return {
      server: await describeServer(adminUrl, server !== undefined),
      durable: await measureCommitSetting(log, adminUrl, 'durable'),
      asynchronous: await measureCommitSetting(log, adminUrl, 'asynchronous'),
    };
  } finally {
    await server?.stop();
  }
}

export interface PostgresQueueBenchReport {
  benchmark: 'queue-postgres';
  date: string;
  environment: BenchEnvironment;
  server: PostgresServerFacts;
  target: { minimumOpsPerSecond: number; doubleClaims: 0; workers: number };
  notes: { store: string; bareSkipLockedFloor: string; designs: string; commits: string };
  durableCommits: CommitReport;
  asynchronousCommits: CommitReport;
}

interface CommitReport {
  claimComplete: PostgresThroughput & { pass: boolean };
  bareSkipLockedFloor: PostgresThroughput & { storeToBareRatio: number };
  /** Not Loki's code: what the target would take (notes.designs). */
  designs: {
    onePairPerStatementPlainSequence: PostgresThroughput & { reachesTarget: boolean };
    onePairPerStatementCommitOrder: PostgresThroughput & { reachesTarget: boolean };
  };
}

function commitReport(measurement: CommitMeasurement, target: number): CommitReport {
  const { store, bare, pairPlain, pairOrdered } = measurement;
  const reaches = (throughput: PostgresThroughput) =>
    throughput.medianOpsPerSecond >= target && throughput.doubleClaims === 0;
  return {
    claimComplete: { ...store, pass: reaches(store) },
    bareSkipLockedFloor: {
      ...bare,
      storeToBareRatio: roundTo(store.medianOpsPerSecond / bare.medianOpsPerSecond, 3),
    },
    designs: {
      onePairPerStatementPlainSequence: { ...pairPlain, reachesTarget: reaches(pairPlain) },
      onePairPerStatementCommitOrder: { ...pairOrdered, reachesTarget: reaches(pairOrdered) },
    },
  };
}

function summaryLines(label: string, report: CommitReport, target: number): string[] {
  const { claimComplete: store, bareSkipLockedFloor: bare } = report;
  const loads = [
    store,
    bare,
    report.designs.onePairPerStatementPlainSequence,
    report.designs.onePairPerStatementCommitOrder,
  ]
    .flatMap((throughput) => throughput.runs)
    .map((run) => run.loadAverageBefore);
  return [
    `  ${label} (load average ${Math.min(...loads)}–${Math.max(...loads)})`,
    `    claim+complete, ${store.workers} workers  ${store.medianOpsPerSecond} pairs/s, ${store.doubleClaims} double ` +
      `claims (target ≥ ${target}, 0)  ${store.pass ? 'pass' : '*** MISSED ***'}`,
    `    bare SKIP LOCKED floor      ${bare.medianOpsPerSecond} pairs/s, ${bare.doubleClaims} double claims (store ` +
      `reaches ${Math.round(bare.storeToBareRatio * 100)} % of it)`,
    `    other designs, bare SQL, one statement per pair: plain sequence ` +
      `${report.designs.onePairPerStatementPlainSequence.medianOpsPerSecond} pairs/s, commit-order counter ` +
      `${report.designs.onePairPerStatementCommitOrder.medianOpsPerSecond} pairs/s`,
  ];
}

export async function runPostgresQueueBenchmark(repositoryRoot: string): Promise<void> {
  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  const storeUrl = process.env.LOKI_STORE_URL?.trim() || undefined;
  const environment = describeEnvironment();
  const measured = await measurePostgresQueue(log, storeUrl);
  const target = POSTGRES_QUEUE_TARGETS.claimCompleteMinimumOpsPerSecond;
  const report: PostgresQueueBenchReport = {
    benchmark: 'queue-postgres',
    date: new Date().toISOString(),
    environment,
    server: measured.server,
    target: { minimumOpsPerSecond: target, doubleClaims: 0, workers: POSTGRES_QUEUE_TARGETS.workers },
    notes: {
      store:
        'pairs/s: TaskQueue.claim + TaskQueue.complete on PostgresStore, each one statement that is its own ' +
        'transaction with its event (commit-ordered sequence from the event counter, NOTIFY), one process and ' +
        'one connection per worker',
      bareSkipLockedFloor:
        'plain SQL on the same tables: one statement claims (UPDATE … WHERE seq = (SELECT … FOR UPDATE SKIP ' +
        'LOCKED)) with its event numbered from a plain sequence, one completes with its event; no dependency ' +
        'check, no lease reclaim, no commit-order counter, no NOTIFY; prepared once per connection, as the ' +
        "store's statements are",
      designs:
        "not Loki's code: one statement completes the task a worker holds and claims its next (one commit per " +
        'pair instead of two), its two events numbered from a plain sequence (a tailer can miss an event ' +
        'committed late with a lower number) or from the commit-order counter the store uses (held to COMMIT, ' +
        'so event-writing commits flush one after another); Loki completes a task where it merges it, ' +
        'not where the next is claimed',
      commits:
        "durableCommits: the server's commit setting (a commit waits for its WAL flush); asynchronousCommits: " +
        'synchronous_commit=off for the bench sessions (the flush time of the disk taken out)',
    },
    durableCommits: commitReport(measured.durable, target),
    asynchronousCommits: commitReport(measured.asynchronous, target),
  };
  const resultPath = join(repositoryRoot, 'bench', 'results', 'queue-postgres.json');
  mkdirSync(dirname(resultPath), { recursive: true });
  writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    [
      '',
      `queue benchmark on PostgreSQL ${measured.server.version} (fsync ${measured.server.settings.fsync}) — Node ` +
        `${environment.nodeVersion}, ${environment.cpuCount} × ${environment.cpuModel}`,
      ...summaryLines('durable commits', report.durableCommits, target),
      ...summaryLines('asynchronous commits', report.asynchronousCommits, target),
      `written to ${resultPath}`,
      '',
    ].join('\n'),
  );
}
