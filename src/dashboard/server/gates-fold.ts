import type { EventDataByType } from '../../events/index.ts';
import type { Workspace } from '../../workspace/index.ts';
import { Serial } from './serial.ts';

/** The latest verdict of one gate. */
export type GateSummary = EventDataByType['gate.evaluated'] & {
  sequence: number;
  at: number;
  taskId: string | null;
};

/**
 * The latest verdict of each gate that has run, by gate name (none when no gate ran), kept by
 * the server and folded forward from the last gate.evaluated event it read, as MetricsFold does.
 */
export class GatesFold {
  #sequence = 0;
  readonly #latest = new Map<string, GateSummary>();
  readonly #serial = new Serial();

  read(workspace: Workspace): Promise<GateSummary[]> {
    return this.#serial.run(async () => {
      const events = await workspace.store.listEvents({
        types: ['gate.evaluated'],
        afterSequence: this.#sequence,
      });
      for (const event of events) {
        this.#sequence = event.sequence;
        if (event.type !== 'gate.evaluated') continue;
        this.#latest.set(event.data.gate, {
          ...event.data,
          sequence: event.sequence,
          at: event.createdAt,
          taskId: event.taskId,
        });
      }
      return [...this.#latest.values()].sort((left, right) => left.gate.localeCompare(right.gate));
    });
  }
}
