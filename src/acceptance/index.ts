export {
  acceptanceTaskId,
  needsAcceptanceTests,
  type PlannedTaskWithAcceptance,
  QA_AGENT_TYPE,
  withAcceptanceTasks,
} from './acceptance-tasks.ts';
export { changedTestFiles, type ChangedTestFile, problemsWithAcceptanceTests } from './acceptance-work.ts';
export { describeTampering, type TamperChange } from './describe-tampering.ts';
export { describeTamperChanges, findTampering, readWorktreeFile } from './find-tampering.ts';
export { readSealedTests, type SealedTest, sealTests, sha256 } from './sealed-tests.ts';
export { findMarkers, findTestCases, isTestFilePath } from './test-file-shape.ts';
