// Turning figures and events into short text. Everything returned here is plain text: the views
// put it in text nodes, so model-written strings can never become markup.

export function formatDuration(milliseconds) {
  if (milliseconds === null || milliseconds === undefined || milliseconds < 0) return '–';
  const seconds = Math.floor(milliseconds / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${rest} s`;
  return `${rest} s`;
}

export function formatUsd(amount) {
  return `$${(amount ?? 0).toFixed(amount >= 1 ? 2 : 4)}`;
}

export function formatTime(epochMilliseconds) {
  return new Date(epochMilliseconds).toLocaleTimeString();
}

function clip(text, length) {
  const oneLine = String(text ?? '').replace(/\s+/g, ' ');
  return oneLine.length <= length ? oneLine : `${oneLine.slice(0, length - 1)}…`;
}

/** One line about an event for the live log and the task drawer. */
export function describeEvent(event) {
  const data = event.data ?? {};
  switch (event.type) {
    case 'task.enqueued':
      return `queued: ${clip(data.title, 160)} (${data.type}, priority ${data.priority})`;
    case 'task.claimed':
      return `claimed by ${data.workerId} (attempt ${data.attempt})`;
    case 'task.completed':
      return `completed by ${data.workerId}`;
    case 'task.failed':
    case 'task.dead_lettered':
      return clip(data.error, 200);
    case 'agent.text':
      return clip(data.text, 200);
    case 'agent.tool_called':
      return `${data.toolName} ${clip(JSON.stringify(data.input ?? null), 160)}`;
    case 'agent.tool_result':
      return `${data.toolName}${data.isError ? ' (error)' : ''}: ${clip(data.output, 160)}`;
    case 'phase.entered':
      return `entered ${data.phase}`;
    case 'phase.exited':
      return `${data.phase} ${data.outcome}: ${clip(data.details, 160)}`;
    case 'merge.completed':
      return `merged as ${String(data.commit).slice(0, 10)}`;
    case 'verification.ran':
      return `\`${clip(data.command, 80)}\` ${data.passed ? 'passed' : `failed (exit ${data.exitCode ?? '?'})`}`;
    case 'review.finding_reported':
      return `${data.severity} from ${data.reviewer} at ${clip(data.file, 80)}:${data.line}: ${clip(data.message, 160)}`;
    case 'review.completed':
      return `round ${data.round} ${data.outcome === 'approved' ? 'approved' : 'changes requested'}, next: ${data.next}`;
    case 'gate.evaluated':
      return `${data.gate} ${data.verdict}: ${clip(data.reason, 160)}`;
    case 'usage.recorded':
      return `${data.model}: ${data.inputTokens} in, ${data.outputTokens} out, ${formatUsd(data.costUsd)}`;
    case 'run.paused':
    case 'run.continued':
    case 'run.stop_requested':
      return `requested by ${data.requestedBy}`;
    default:
      return clip(JSON.stringify(data), 200);
  }
}

/** A gate's test counts as text ("12 passed, 1 failed, 0 skipped (vitest)"), or a dash. */
export function formatCounts(counts) {
  if (counts === undefined || counts === null) return '–';
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${counts.framework})`;
}
