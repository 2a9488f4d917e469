import type { GateEvaluatedData } from '../../src/events/index.ts';

/** A `gate.evaluated` event's data as the gates record it, with what a test does not care about filled in. */
export function gateEvaluated(
  data: Pick<GateEvaluatedData, 'gate' | 'verdict' | 'reason' | 'commit'> & Partial<GateEvaluatedData>,
): GateEvaluatedData {
  return {
    stage: 'qa',
    blocks: true,
    command: null,
    exitCode: null,
    durationMilliseconds: 10,
    counts: null,
    outputExcerpt: '',
    ...data,
  };
}
