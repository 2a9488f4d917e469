import type { EventDataByType, EventType, NewEvent } from '../../events/index.ts';

/** Emits one event of a run and task without repeating their ids at every call site. */
export type EmitRuntimeEvent = <Type extends EventType>(type: Type, data: EventDataByType[Type]) => void;

export function bindEventEmitter(
  emit: (event: NewEvent) => void,
  runId: string | null,
  taskId: string | null,
): EmitRuntimeEvent {
  // TypeScript cannot correlate `type` with `data` through the mapped union; the signature above does.
  return (type, data) => emit({ type, runId, taskId, data } as NewEvent);
}
