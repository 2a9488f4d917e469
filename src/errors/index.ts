export { errorCode } from './error-code.ts';
export {
  type ErrorCategory,
  ExitCode,
  isLokiError,
  LokiError,
  type LokiErrorOptions,
  usageError,
} from './loki-error.ts';
