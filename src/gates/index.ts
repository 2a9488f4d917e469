export {
  describeCounts,
  endToEndTestGate,
  integrationTestGate,
  lintGate,
  typeCheckGate,
  unitTestGate,
} from './command-gates.ts';
export { coverageGate, DEFAULT_MINIMUM_LINE_COVERAGE } from './coverage-gate.ts';
export type { Gate, GateContext, GateEvidence, GateRecord, GateResult, GateVerdict } from './gate.ts';
export { parseTestCounts, type TestCounts, type TestFramework } from './parse-test-counts.ts';
export { ALL_GATES, runGates, type GateRun } from './run-gates.ts';
export { legalGate } from './legal-gate.ts';
export { securityGate } from './security-gate.ts';
export { auditGate } from './audit-gate.ts';
export {
  accessibilityGate,
  type AccessibilityGateOptions,
  createAccessibilityGate,
  DEFAULT_ACCESSIBILITY_OPTIONS,
} from './accessibility-gate.ts';
export { type AppLaunch, findAppLaunch } from './app-launch.ts';
export {
  createLiveAppGates,
  LIVE_APP_GATES,
  type LiveAppGate,
  type LiveAppGatesOptions,
  type LiveGate,
  type LiveGateCheck,
} from './live-app-gates.ts';
export { type AppDependency, AppUnderTest, type HealthWait, type StartAppOptions } from './app-under-test.ts';
export { chaosGate, type ChaosGateOptions, createChaosGate, DEFAULT_CHAOS_OPTIONS } from './chaos-gate.ts';
export { createLoadGate, DEFAULT_LOAD_OPTIONS, loadGate, type LoadGateOptions } from './load-gate.ts';
export {
  createPerformanceGate,
  DEFAULT_PERFORMANCE_OPTIONS,
  performanceGate,
  type PerformanceGateOptions,
} from './performance-gate.ts';
export type { EvidenceTable } from './gate.ts';
export { parseTestResults, type TestOutcome, type TestResult } from './parse-test-results.ts';
export {
  GATE_COVERAGE,
  namesRequirement,
  type RequirementTrace,
  type Traceability,
  type TraceableRequirement,
  type TracedGate,
  type TracedTask,
  traceRequirements,
} from './trace-requirements.ts';
export {
  type RunSpend,
  type HostingProjection,
  evaluateCostGate,
  projectHostingCost,
  SMALL_INSTANCE_USD_PER_MONTH,
} from './cost-gate.ts';
export {
  decideHeadline,
  describePrdCoverage,
  type EvidenceDocument,
  evidenceExitCode,
  type EvidenceHeadline,
  gapsOfGatesAndReview,
  gapsOfRequirements,
} from './evidence-document.ts';
export { escapeHtml, formatEvidenceHtml } from './format-evidence-html.ts';
export { formatEvidenceMarkdownSections, markdownCell } from './format-evidence-markdown.ts';
export { type ReviewFindingReport, resolveReviewFindings } from './review-findings.ts';
