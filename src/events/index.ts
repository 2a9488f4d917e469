export {
  EVENT_TYPES,
  type EventDataByType,
  type EventType,
  type LokiEvent,
  type NewEvent,
} from './event-types.ts';
