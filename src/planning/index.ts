export { formatIssuePath, formatValidationIssues } from './format-validation-issues.ts';
export {
  REQUIREMENT_ID_PATTERN,
  REQUIREMENT_KINDS,
  REQUIREMENT_PRIORITIES,
  type Requirement,
  requirementId,
  requirementSchema,
  type RequirementsDocument,
  requirementsDocumentSchema,
  type RequirementsValidation,
  validateRequirements,
} from './requirements-schema.ts';
export {
  DISCOVERY_SYSTEM_PROMPT,
  runDiscovery,
  type RunDiscoveryOptions,
  SUBMIT_REQUIREMENTS_TOOL,
} from './run-discovery.ts';
export {
  MAX_TASK_PRIORITY,
  MIN_TASK_PRIORITY,
  type PlannedTask,
  plannedTaskSchema,
  TASK_ID_PATTERN,
  type TaskPlan,
  taskPlanSchema,
} from './task-plan-schema.ts';
export { type TaskPlanValidation, validateTaskPlan } from './validate-task-plan.ts';
export {
  formatRequirementsMarkdown,
  REQUIREMENTS_JSON_FILE,
  REQUIREMENTS_MARKDOWN_FILE,
  writeRequirementsSpecs,
} from './write-requirements-specs.ts';
export {
  type ArchitectureDocument,
  architectureDocumentSchema,
  type ArchitectureValidation,
  type DeploymentSettings,
  deploymentSchema,
  phaseOfTask,
  techChoiceSchema,
  validateArchitecture,
} from './architecture-schema.ts';
export {
  defaultPhaseForAgentType,
  DELIVERY_PHASES,
  type DeliveryPhase,
  phaseIndex,
  RUN_PHASES,
  type RunPhase,
} from './delivery-phases.ts';
export {
  ARCHITECTURE_SYSTEM_PROMPT,
  runArchitecture,
  type RunArchitectureOptions,
  SUBMIT_ARCHITECTURE_TOOL,
} from './run-architecture.ts';
export { runSubmissionAgent, type SubmissionAgentOptions } from './run-submission-agent.ts';
export { DEFAULT_MAX_REPAIR_ROUNDS, SubmissionJudge, type SubmissionVerdict } from './submission-judge.ts';
export {
  type SubmissionRunner,
  type SubmissionRunOptions,
  type SubmissionSpec,
  submissionRunOptions,
} from './submission-spec.ts';
export { type ClaudeCodeSubmissionSettings, runClaudeCodeSubmission } from './run-claude-code-submission.ts';
export { type CodexSubmissionSettings, runCodexSubmission } from './run-codex-submission.ts';
export {
  ARCHITECTURE_JSON_FILE,
  ARCHITECTURE_MARKDOWN_FILE,
  formatArchitectureMarkdown,
  OPENAPI_FILE,
  writeArchitectureSpecs,
} from './write-architecture-specs.ts';
export {
  GROWTH_SYSTEM_PROMPT,
  type ImprovementPlan,
  improvementPlanSchema,
  runGrowthPlanning,
  type RunGrowthPlanningOptions,
  SUBMIT_IMPROVEMENTS_TOOL,
  validateImprovementPlan,
} from './run-growth-planning.ts';
