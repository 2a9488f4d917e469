import type { LokiEvent } from '../../src/events/index.ts';
import type { Task, TaskStatus } from '../../src/store/index.ts';

/**
 * Replays a task's events (in sequence order) through the lifecycle rules and returns what does not
 * add up: an illegal transition, or a final state that differs from the task row. An empty list
 * means the row is exactly what its event trail says it should be.
 */
export function findEventTrailProblems(task: Task, events: readonly LokiEvent[]): string[] {
  const problems: string[] = [];
  let status: TaskStatus | null = null;
  let claimedBy: string | null = null;
  let leaseExpiresAt: number | null = null;
  let attemptCount = 0;

  const expectStatus = (event: LokiEvent, allowed: readonly TaskStatus[]) => {
    if (status === null || !allowed.includes(status)) {
      problems.push(
        `${task.id}: ${event.type} (#${event.sequence}) from status ${status ?? '(not enqueued)'}`,
      );
    }
  };

  for (const event of events) {
    if (event.taskId !== task.id)
      problems.push(`${task.id}: foreign event #${event.sequence} for ${event.taskId}`);
    switch (event.type) {
      case 'task.enqueued':
        if (status !== null) problems.push(`${task.id}: enqueued twice (#${event.sequence})`);
        status = 'pending';
        break;
      case 'task.claimed':
        expectStatus(event, ['pending', 'failed']);
        status = 'in_progress';
        claimedBy = event.data.workerId;
        leaseExpiresAt = event.data.leaseExpiresAt;
        attemptCount += 1;
        if (event.data.attempt !== attemptCount) {
          problems.push(
            `${task.id}: claim #${event.sequence} says attempt ${event.data.attempt}, trail says ${attemptCount}`,
          );
        }
        break;
      case 'task.completed':
        expectStatus(event, ['in_progress']);
        if (event.data.workerId !== claimedBy) {
          problems.push(`${task.id}: completed by ${event.data.workerId} but held by ${claimedBy}`);
        }
        status = 'completed';
        leaseExpiresAt = null;
        break;
      case 'task.failed':
        expectStatus(event, ['in_progress']);
        status = 'failed';
        claimedBy = null;
        leaseExpiresAt = null;
        break;
      case 'task.lease_expired':
        expectStatus(event, ['in_progress']);
        status = 'pending';
        claimedBy = null;
        leaseExpiresAt = null;
        break;
      case 'task.dead_lettered':
        expectStatus(event, ['in_progress']);
        status = 'dead_letter';
        claimedBy = null;
        leaseExpiresAt = null;
        break;
      case 'task.cancelled':
        expectStatus(event, ['pending', 'in_progress', 'failed', 'dead_letter']);
        status = 'cancelled';
        claimedBy = null;
        leaseExpiresAt = null;
        break;
      case 'task.retried':
        expectStatus(event, ['dead_letter', 'failed', 'cancelled']);
        status = 'pending';
        break;
      case 'task.reprioritized':
        break;
      default:
        problems.push(`${task.id}: unexpected event type ${event.type} (#${event.sequence})`);
    }
  }

  if (status !== task.status) problems.push(`${task.id}: row says ${task.status}, events say ${status}`);
  if (attemptCount !== task.attemptCount) {
    problems.push(`${task.id}: row says ${task.attemptCount} attempts, events say ${attemptCount}`);
  }
  if (task.status === 'in_progress') {
    if (task.claimedBy !== claimedBy)
      problems.push(`${task.id}: row held by ${task.claimedBy}, events say ${claimedBy}`);
    if (task.leaseExpiresAt !== leaseExpiresAt) {
      problems.push(`${task.id}: row lease ends ${task.leaseExpiresAt}, events say ${leaseExpiresAt}`);
    }
  }
  return problems;
}

/** Groups events by task id (events without a task are skipped). */
export function groupEventsByTask(events: readonly LokiEvent[]): Map<string, LokiEvent[]> {
  const eventsByTask = new Map<string, LokiEvent[]>();
  for (const event of events) {
    if (event.taskId === null) continue;
    const taskEvents = eventsByTask.get(event.taskId);
    if (taskEvents === undefined) eventsByTask.set(event.taskId, [event]);
    else taskEvents.push(event);
  }
  return eventsByTask;
}
