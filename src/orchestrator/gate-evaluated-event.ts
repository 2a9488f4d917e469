import type { GateStage } from '../config/index.ts';
import type { NewEvent } from '../events/index.ts';
import type { GateResult } from '../gates/index.ts';

/** What the event keeps of the output: enough to read the failure, not the whole log. */
const EVENT_EXCERPT_CHARACTERS = 1_000;

/** The `gate.evaluated` event of one gate's verdict on a commit (the one writer of its shape). */
export function gateEvaluatedEvent(evaluation: {
  runId: string;
  taskId: string | null;
  stage: GateStage;
  commit: string;
  result: GateResult;
  blocks: boolean;
}): NewEvent {
  const { result } = evaluation;
  const { evidence } = result;
  return {
    type: 'gate.evaluated',
    runId: evaluation.runId,
    taskId: evaluation.taskId,
    data: {
      stage: evaluation.stage,
      gate: result.gate,
      verdict: result.verdict,
      reason: result.reason,
      commit: evaluation.commit,
      blocks: evaluation.blocks,
      command: evidence.command,
      exitCode: evidence.exitCode,
      durationMilliseconds: Math.max(0, Math.round(evidence.durationMilliseconds)),
      counts: evidence.counts === null ? null : { ...evidence.counts },
      outputExcerpt: evidence.outputExcerpt.slice(-EVENT_EXCERPT_CHARACTERS),
    },
  };
}
