/**
 * The claim's UPDATE, shared by the transaction path (postgres-task-writes.ts) and the one-statement
 * path (postgres-one-statement.ts) so that what is claimable is written once: the first pending (or
 * failed, retry due) task by priority then age whose dependencies are all completed, skipping rows
 * another claim holds. The placeholders are the caller's (`$n`); `filter` adds conditions on `t`.
 */
export function claimUpdateSql(placeholders: {
  workerId: string;
  now: string;
  leaseMilliseconds: string;
  filter: string;
}): string {
  const { workerId, now, leaseMilliseconds, filter } = placeholders;
  return `UPDATE tasks SET status = 'in_progress', claimed_by = ${workerId}, claimed_at = ${now},
       lease_expires_at = ${now} + COALESCE(${leaseMilliseconds}::bigint, timeout_seconds * 1000::bigint),
       attempt_count = attempt_count + 1, updated_at = ${now}
     WHERE seq = (
       SELECT t.seq FROM tasks t
       WHERE t.status IN ('pending', 'failed') AND t.available_at <= ${now} ${filter}
         AND NOT EXISTS (
           SELECT 1 FROM task_dependencies d JOIN tasks dependency ON dependency.id = d.depends_on_id
           WHERE d.task_id = t.id AND dependency.status <> 'completed')
       ORDER BY t.priority DESC, t.seq
       LIMIT 1
       FOR UPDATE SKIP LOCKED)
     RETURNING *`;
}
