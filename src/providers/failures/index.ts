export {
  classifyModelFailure,
  type ClassifyModelFailureOptions,
  type ModelFailure,
  type ModelFailureCategory,
} from './classify-model-failure.ts';
export { parseRetryAfterMilliseconds, type ResponseHeaders } from './parse-retry-after.ts';
