/**
 * The run's budget ledger in PostgreSQL, shared by every process and machine working on the run
 * (src/budget/README.md, "What a store-backed ledger needs"). Tables: budget_ledgers (one row per
 * run: cap and counters), budget_reservations (one row per model call), migration 2.
 *
 * Invariants:
 * - A reservation is granted by ONE conditional UPDATE of the run's ledger row: the server takes the
 *   row lock and re-checks `spent + reserved + estimate <= cap` on the newest row version, so
 *   reservations racing from any number of connections are decided one after another.
 * - A reservation is closed at most once: settle and release lock its row first and act only on an
 *   open (or lapsed) one. Lock order is always reservation, then ledger row: no deadlock between them.
 * - A lapsed reservation (its task left its worker) holds no money; a late settle of it still
 *   charges the call, since the provider billed it.
 */
import {
  type BudgetLedger,
  type LedgerReservationRequest,
  PHASE_CALL_TASK_PREFIX,
  reservationIdReusedError,
} from '../../budget/index.ts';
import type { LedgerReserveOutcome, LedgerSettlement, LedgerTotals } from '../../budget/index.ts';
import { LokiError } from '../../errors/index.ts';
import type { SharedBudgetLedger } from '../store.ts';
import type { PostgresTransaction } from './postgres-transaction.ts';

/** The store's transaction runner (PostgresStore#transaction): retried on a deadlock. */
export type RunInTransaction = <T>(
  body: (tx: PostgresTransaction) => Promise<T>,
  isolation?: string,
) => Promise<T>;

const READ_ONLY = ' ISOLATION LEVEL REPEATABLE READ READ ONLY';

/**
 * Opens the run's ledger, creating it on first use. With `cap`, the cap stored with the run becomes
 * `cap.capNanoUsd` (the session that starts or resumes the run decides it); without, the stored one
 * is read (a worker enforces the cap of the run it works for).
 *
 * The session that decides the cap is the one that runs the phases: phase calls still open then were
 * made by a session that died mid-call, so they lapse here (as a dead worker's do with its lease).
 */
export async function openPostgresBudgetLedger(
  transaction: RunInTransaction,
  runId: string,
  cap: { capNanoUsd: number | null } | undefined,
): Promise<SharedBudgetLedger> {
  const opened = await transaction(async (tx) => {
    const created = await tx.row(
      `INSERT INTO budget_ledgers (run_id, cap_nano_usd, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (run_id) DO NOTHING RETURNING cap_nano_usd`,
      [runId, cap?.capNanoUsd ?? null, tx.now],
    );
    if (created !== null) return { capNanoUsd: nanoOrNull(created.cap_nano_usd), isNew: true };
    const stored =
      cap === undefined
        ? await tx.row('SELECT cap_nano_usd FROM budget_ledgers WHERE run_id = $1', [runId])
        : await tx.row(
            'UPDATE budget_ledgers SET cap_nano_usd = $2, updated_at = $3 WHERE run_id = $1 RETURNING cap_nano_usd',
            [runId, cap.capNanoUsd, tx.now],
          );
    if (cap !== undefined) await lapseOpenPhaseCalls(tx, runId);
    return { capNanoUsd: nanoOrNull(stored?.cap_nano_usd), isNew: false };
  });
  return { ledger: new PostgresBudgetLedger(transaction, runId), ...opened };
}

/**
 * Releases the money still reserved by calls of these tasks, in the caller's transaction: their
 * worker lost them (lease expired, task released), and a dead worker would never settle them.
 */
export async function lapseOpenReservations(
  tx: PostgresTransaction,
  taskIds: readonly string[],
): Promise<void> {
  if (taskIds.length === 0) return;
  await tx.rows(
    `WITH lapsed AS (
       UPDATE budget_reservations SET state = 'lapsed', closed_at = $2
       WHERE task_id = ANY($1::text[]) AND state = 'open'
       RETURNING run_id, estimated_nano_usd)
     UPDATE budget_ledgers ledger
     SET reserved_nano_usd = ledger.reserved_nano_usd - lapsed_by_run.total, version = ledger.version + 1,
       updated_at = $2
     FROM (SELECT run_id, SUM(estimated_nano_usd)::bigint AS total FROM lapsed GROUP BY run_id) lapsed_by_run
     WHERE ledger.run_id = lapsed_by_run.run_id`,
    [taskIds, tx.now],
  );
}

/** Phase task ids repeat in every run: unlike a task's, these are lapsed for this run only. */
async function lapseOpenPhaseCalls(tx: PostgresTransaction, runId: string): Promise<void> {
  await tx.rows(
    `WITH lapsed AS (
       UPDATE budget_reservations SET state = 'lapsed', closed_at = $3
       WHERE run_id = $1 AND state = 'open' AND starts_with(task_id, $2)
       RETURNING estimated_nano_usd)
     UPDATE budget_ledgers
     SET reserved_nano_usd = reserved_nano_usd - total, version = version + 1, updated_at = $3
     FROM (SELECT SUM(estimated_nano_usd)::bigint AS total FROM lapsed) lapsed_total
     WHERE run_id = $1 AND total IS NOT NULL`,
    [runId, PHASE_CALL_TASK_PREFIX, tx.now],
  );
}

class PostgresBudgetLedger implements BudgetLedger {
  readonly #transaction: RunInTransaction;
  readonly #runId: string;

  constructor(transaction: RunInTransaction, runId: string) {
    this.#transaction = transaction;
    this.#runId = runId;
  }

  async tryReserve(
    request: LedgerReservationRequest,
    capNanoUsd: number | undefined,
  ): Promise<LedgerReserveOutcome> {
    return this.#transaction(async (tx) => {
      // The whole check-and-reserve: concurrent reservations of the run wait on this row's lock.
      const granted = await tx.row(
        `UPDATE budget_ledgers SET reserved_nano_usd = reserved_nano_usd + $2, version = version + 1, updated_at = $4
         WHERE run_id = $1 AND ($3::bigint IS NULL OR spent_nano_usd + reserved_nano_usd + $2 <= $3)
         RETURNING version`,
        [this.#runId, request.estimatedNanoUsd, capNanoUsd ?? null, tx.now],
      );
      if (granted === null) {
        const totals = await this.#ledgerRow(tx);
        return {
          isGranted: false,
          spentNanoUsd: Number(totals.spent_nano_usd),
          reservedNanoUsd: Number(totals.reserved_nano_usd),
        };
      }
      const inserted = await tx.row(
        `INSERT INTO budget_reservations (reservation_id, run_id, task_id, agent_type, estimated_nano_usd, state,
           granted_version, created_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) ON CONFLICT (reservation_id) DO NOTHING RETURNING reservation_id`,
        [
          request.reservationId,
          this.#runId,
          request.taskId,
          request.agentType ?? null,
          request.estimatedNanoUsd,
          granted.version,
          tx.now,
        ],
      );
      // Thrown inside the transaction: the counter change above is rolled back with it.
      if (inserted === null) throw reservationIdReusedError(request.reservationId);
      return { isGranted: true };
    });
  }

  async settle(settlement: LedgerSettlement): Promise<boolean> {
    return this.#close(settlement.reservationId, settlement.chargedNanoUsd, async (tx, version) => {
      await tx.rows(
        `UPDATE budget_reservations SET state = 'settled', charged_nano_usd = $2, is_price_known = $3,
           closed_version = $4, closed_at = $5
         WHERE reservation_id = $1`,
        [settlement.reservationId, settlement.chargedNanoUsd, settlement.isPriceKnown, version, tx.now],
      );
    });
  }

  async release(reservationId: string): Promise<boolean> {
    return this.#close(reservationId, 0, async (tx, version) => {
      await tx.rows(
        "UPDATE budget_reservations SET state = 'released', closed_version = $2, closed_at = $3 WHERE reservation_id = $1",
        [reservationId, version, tx.now],
      );
    });
  }

  async totals(): Promise<LedgerTotals> {
    return this.#transaction(async (tx) => {
      const ledger = await this.#ledgerRow(tx);
      const settled = await tx.rows(
        `SELECT task_id, agent_type, SUM(charged_nano_usd)::bigint AS charged,
           COUNT(*) FILTER (WHERE NOT is_price_known)::integer AS unknown_price_calls
         FROM budget_reservations WHERE run_id = $1 AND state = 'settled' GROUP BY task_id, agent_type`,
        [this.#runId],
      );
      const totals: LedgerTotals = {
        spentNanoUsd: Number(ledger.spent_nano_usd),
        reservedNanoUsd: Number(ledger.reserved_nano_usd),
        spentNanoUsdByTask: {},
        spentNanoUsdByAgentType: {},
        unknownPriceCalls: 0,
      };
      for (const row of settled) {
        const charged = Number(row.charged);
        addTo(totals.spentNanoUsdByTask, String(row.task_id), charged);
        if (row.agent_type !== null) addTo(totals.spentNanoUsdByAgentType, String(row.agent_type), charged);
        totals.unknownPriceCalls += Number(row.unknown_price_calls);
      }
      return totals;
    }, READ_ONLY);
  }

  /**
   * Closes one reservation if it is open or lapsed: the ledger row moves its estimate out of
   * `reserved` (an open one's only) and the charge into `spent`; then `mark` records the close on
   * the reservation's row with the ledger version it happened at.
   */
  async #close(
    reservationId: string,
    chargedNanoUsd: number,
    mark: (tx: PostgresTransaction, version: number) => Promise<void>,
  ): Promise<boolean> {
    return this.#transaction(async (tx) => {
      const reservation = await tx.row(
        `SELECT state, estimated_nano_usd FROM budget_reservations
         WHERE reservation_id = $1 AND run_id = $2 FOR UPDATE`,
        [reservationId, this.#runId],
      );
      if (reservation === null || (reservation.state !== 'open' && reservation.state !== 'lapsed')) {
        return false;
      }
      const reservedNanoUsd = reservation.state === 'open' ? Number(reservation.estimated_nano_usd) : 0;
      const ledger = await tx.row(
        `UPDATE budget_ledgers SET spent_nano_usd = spent_nano_usd + $2,
           reserved_nano_usd = reserved_nano_usd - $3, version = version + 1, updated_at = $4
         WHERE run_id = $1 RETURNING version`,
        [this.#runId, chargedNanoUsd, reservedNanoUsd, tx.now],
      );
      if (ledger === null) throw ledgerMissingError(this.#runId);
      await mark(tx, Number(ledger.version));
      return true;
    });
  }

  async #ledgerRow(tx: PostgresTransaction) {
    const row = await tx.row(
      'SELECT spent_nano_usd, reserved_nano_usd FROM budget_ledgers WHERE run_id = $1',
      [this.#runId],
    );
    if (row === null) throw ledgerMissingError(this.#runId);
    return row;
  }
}

function nanoOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function addTo(totals: Record<string, number>, key: string, nanoUsd: number): void {
  totals[key] = (totals[key] ?? 0) + nanoUsd;
}

/** The ledger row is created by openBudgetLedger and never deleted: its absence is a bug or a wiped table. */
function ledgerMissingError(runId: string): LokiError {
  return new LokiError(
    `the budget ledger of run ${runId} is missing from the store's budget_ledgers table; ` +
      'open it with Store.openBudgetLedger before use, and do not delete its rows while the run lives',
    { code: 'BUDGET_LEDGER_MISSING', category: 'internal', context: { runId } },
  );
}
