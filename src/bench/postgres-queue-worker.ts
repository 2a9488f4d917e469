/**
 * One of the PostgreSQL queue bench's concurrent workers, its own process (a worker machine has its
 * own process too):
 *
 *   node src/bench/postgres-queue-worker.ts <mode> <url> <workerId> <claimedIdsFile>
 *
 * Opens its connection, prints `ready`, waits for `go` on stdin, then claims and completes tasks
 * until none is left, prints `done <count>` and writes the ids it claimed to `claimedIdsFile` (the
 * bench counts double claims from them). `store`: through TaskQueue and PostgresStore, with their
 * events, exactly as a worker does. `bare`: the floor, plain SQL on the same tables, one statement
 * per transition: FOR UPDATE SKIP LOCKED claim with its event from a plain sequence, then complete.
 * The two `pair` modes are other designs, measured to show what the target needs (not what Loki
 * runs): one statement completes the task held and claims the next, its two events numbered from a
 * plain sequence (`bare-pair`: no commit order) or from the commit-order counter as the store does
 * (`bare-pair-ordered`: the counter row held to COMMIT). Every plain-SQL statement is prepared once
 * per connection (named), as the store's are: the floor must not pay for planning the store does not.
 */
import { writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { TaskQueue } from '../queue/index.ts';
import { PostgresStore } from '../store/index.ts';

const MODES = ['store', 'bare', 'bare-pair', 'bare-pair-ordered'] as const;
type Mode = (typeof MODES)[number];
const [mode, url, workerId, claimedIdsFile] = process.argv.slice(2);
if (!MODES.includes(mode as Mode) || url === undefined || workerId === undefined || !claimedIdsFile) {
  throw new Error(`usage: postgres-queue-worker.ts <${MODES.join('|')}> <url> <workerId> <claimedIdsFile>`);
}

/** Synchronous, as the test support scripts do: a line printed is a line the parent reads. */
function writeLine(line: string): void {
  writeSync(1, `${line}\n`);
}

async function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') {
      lines.close();
      return;
    }
  }
  process.exit(3);
}

async function runStore(storeUrl: string, worker: string): Promise<string[]> {
  await using store = await PostgresStore.open(storeUrl, { poolSize: 1 });
  const queue = new TaskQueue(store);
  writeLine('ready');
  await waitForGo();
  const claimed: string[] = [];
  for (;;) {
    const task = await queue.claim({ workerId: worker });
    if (task === null) return claimed;
    claimed.push(task.id);
    await queue.complete(task.id, worker);
  }
}

const BARE_CLAIM = `
  WITH claimed AS (
    UPDATE tasks SET status = 'in_progress', claimed_by = $1, claimed_at = $2, lease_expires_at = $2 + 3600000,
      attempt_count = attempt_count + 1, updated_at = $2
    WHERE seq = (
      SELECT seq FROM tasks WHERE status IN ('pending', 'failed') AND available_at <= $2
      ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, attempt_count)
  INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
  SELECT nextval('bench_event_sequence'), 'task.claimed', NULL, id,
    json_build_object('workerId', $1::text, 'attempt', attempt_count, 'leaseExpiresAt', $2 + 3600000)::text, $2
  FROM claimed RETURNING task_id`;

const BARE_COMPLETE = `
  WITH completed AS (
    UPDATE tasks SET status = 'completed', completed_at = $3, updated_at = $3, lease_expires_at = NULL
    WHERE id = $2 AND status = 'in_progress' AND claimed_by = $1 RETURNING id, attempt_count)
  INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
  SELECT nextval('bench_event_sequence'), 'task.completed', NULL, id,
    json_build_object('workerId', $1::text, 'attempt', attempt_count)::text, $3
  FROM completed`;

/**
 * Completes the task held ($2) and claims the next in one statement. `ordered`: the two events take
 * their numbers from event_counter, updated by the last step and held to COMMIT, as the store's do;
 * otherwise from the plain sequence.
 */
function barePairSql(ordered: boolean): string {
  const completedNumber = ordered
    ? '(SELECT last_sequence FROM counter) - (SELECT COUNT(*) FROM claimed)'
    : "nextval('bench_event_sequence')";
  const claimedNumber = ordered ? '(SELECT last_sequence FROM counter)' : "nextval('bench_event_sequence')";
  return `
  WITH completed AS (
    UPDATE tasks SET status = 'completed', completed_at = $3, updated_at = $3, lease_expires_at = NULL
    WHERE id = $2 AND status = 'in_progress' AND claimed_by = $1 RETURNING id, attempt_count),
  claimed AS (
    UPDATE tasks SET status = 'in_progress', claimed_by = $1, claimed_at = $3, lease_expires_at = $3 + 3600000,
      attempt_count = attempt_count + 1, updated_at = $3
    WHERE seq = (
      SELECT seq FROM tasks WHERE status IN ('pending', 'failed') AND available_at <= $3
      ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, attempt_count),
  ${
    ordered
      ? `counter AS (
    UPDATE event_counter SET last_sequence = last_sequence
      + (SELECT COUNT(*) FROM completed) + (SELECT COUNT(*) FROM claimed) RETURNING last_sequence),`
      : ''
  }
  completion_event AS (
    INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
    SELECT ${completedNumber}, 'task.completed', NULL, id,
      json_build_object('workerId', $1::text, 'attempt', attempt_count)::text, $3
    FROM completed RETURNING 1),
  claim_event AS (
    INSERT INTO events (sequence, type, run_id, task_id, data, created_at)
    SELECT ${claimedNumber}, 'task.claimed', NULL, id,
      json_build_object('workerId', $1::text, 'attempt', attempt_count, 'leaseExpiresAt', $3 + 3600000)::text, $3
    FROM claimed RETURNING 1)
  SELECT (SELECT id FROM claimed) AS task_id,
    (SELECT COUNT(*) FROM completion_event) + (SELECT COUNT(*) FROM claim_event) AS events`;
}

async function runBare(
  storeUrl: string,
  worker: string,
  pairs: 'separate' | 'plain' | 'ordered',
): Promise<string[]> {
  const client = new pg.Client({ connectionString: storeUrl });
  await client.connect();
  try {
    writeLine('ready');
    await waitForGo();
    const claimed: string[] = [];
    const pairSql = pairs === 'separate' ? '' : barePairSql(pairs === 'ordered');
    // The first claim completes nothing: in the pair modes, the pair statement with no task held.
    const first =
      pairs === 'separate'
        ? await client.query({ name: 'bare_claim', text: BARE_CLAIM, values: [worker, Date.now()] })
        : await client.query({ name: 'bare_pair', text: pairSql, values: [worker, '', Date.now()] });
    let held = (first.rows[0] as { task_id: string | null } | undefined)?.task_id ?? null;
    while (held !== null) {
      claimed.push(held);
      if (pairs === 'separate') {
        await client.query({
          name: 'bare_complete',
          text: BARE_COMPLETE,
          values: [worker, held, Date.now()],
        });
        const row = (
          await client.query({ name: 'bare_claim', text: BARE_CLAIM, values: [worker, Date.now()] })
        ).rows[0] as { task_id: string } | undefined;
        held = row?.task_id ?? null;
      } else {
        const row = (
          await client.query({ name: 'bare_pair', text: pairSql, values: [worker, held, Date.now()] })
        ).rows[0] as { task_id: string | null };
        held = row.task_id;
      }
    }
    return claimed;
  } finally {
    await client.end();
  }
}

const claimed =
  mode === 'store'
    ? await runStore(url, workerId)
    : await runBare(url, workerId, mode === 'bare' ? 'separate' : mode === 'bare-pair' ? 'plain' : 'ordered');
writeFileSync(claimedIdsFile, JSON.stringify(claimed));
writeLine(`done ${claimed.length}`);
