export {
  checkpointMessage,
  MergeQueue,
  type MergeQueueOptions,
  type MergeRequest,
  type MergeResult,
} from './merge-queue.ts';
