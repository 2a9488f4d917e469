/**
 * What the kill -9 test and its two child processes (queue-enqueuer.ts, queue-claimer.ts) agree on,
 * so that the test can tell from the database alone what a complete batch looks like.
 */

/**
 * Batches are numbered from 1 and vary in size (1–20 tasks): varied so that a torn batch shows, and
 * big enough that the enqueuer spends much of its time inside a transaction, where a kill tests most.
 */
export function batchSize(batchNumber: number): number {
  return 1 + (batchNumber % 20);
}

export function taskIdOf(batchNumber: number, indexInBatch: number): string {
  return `b${batchNumber}-${indexInBatch}`;
}

/** `b12-3` → 12, or null for an id this protocol did not make. */
export function batchNumberOf(taskId: string): number | null {
  const match = /^b(\d+)-\d+$/.exec(taskId);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * The claimer never completes these (the first task of every third batch), so that a kill always
 * finds tasks in progress whose leases the recovery must expire.
 */
export function isHeldTask(taskId: string): boolean {
  const batchNumber = batchNumberOf(taskId);
  return batchNumber !== null && batchNumber % 3 === 0 && taskId.endsWith('-0');
}

/** High enough that lease expiries during the test never dead-letter a task. */
export const CRASH_TEST_MAX_ATTEMPTS = 100;

/**
 * Both children pause this long between writes, as a real planner and a real worker do. Without it,
 * whichever process loops tighter can hold the write lock almost continuously: SQLite makes a
 * blocked writer sleep 1–100 ms between retries (no FIFO), so the other one starves for seconds.
 */
export const PAUSE_BETWEEN_WRITES_MILLISECONDS = 1;
