export { findLiveRun, type RunLiveness } from './find-live-run.ts';
export {
  continueRun,
  type PauseOrContinueResult,
  pauseRun,
  type RunControlOptions,
  stopRun,
  type StopRunOptions,
  type StopRunResult,
} from './run-control.ts';
