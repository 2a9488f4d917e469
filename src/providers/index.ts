export {
  type ApiLanguageModel,
  createApiLanguageModel,
  type CreateApiLanguageModelOptions,
} from './create-api-language-model.ts';
export {
  createScriptedLanguageModel,
  SCRIPTED_MODEL_ID,
  type ScriptedLanguageModel,
  type ScriptedLanguageModelOptions,
} from './create-scripted-language-model.ts';
export {
  classifyModelFailure,
  type ClassifyModelFailureOptions,
  type ModelFailure,
  type ModelFailureCategory,
} from './classify-model-failure.ts';
export {
  DEFAULT_MODEL_IDS,
  MODEL_TIERS,
  type ModelOverrides,
  type ModelTier,
  resolveModelId,
} from './model-tiers.ts';
export { parseRetryAfterMilliseconds, type ResponseHeaders } from './parse-retry-after.ts';
export { highestPriceRates } from './highest-price-rates.ts';
export { DEFAULT_PRICE_TABLE, type ModelPrice, type PriceTable, type TokenRates } from './price-table.ts';
export {
  findModelPrice,
  type PricedUsage,
  priceUsage,
  type TokenUsage,
  tokenUsageFromLanguageModelUsage,
} from './price-usage.ts';
export {
  API_PROVIDER_NAMES,
  type ApiProviderName,
  type Environment,
  isApiProviderName,
  isProviderName,
  PROVIDER_NAMES,
  type ProviderName,
} from './provider-name.ts';
export {
  loadScriptedScript,
  parseScriptedScript,
  type ScriptedScript,
  type ScriptedScriptInput,
  type ScriptedStep,
  scriptedScriptSchema,
} from './scripted-script.ts';
export {
  type ProviderSelection,
  type ProviderSelectionSource,
  selectProvider,
  type SelectProviderOptions,
} from './select-provider.ts';
export { addUsageTotals, emptyUsageTotals, type UsageTotals } from './usage-totals.ts';
export * from './cli/index.ts';
export {
  loadScriptedSession,
  parseScriptedSession,
  type ScriptedSession,
  type ScriptedSessionInput,
  scriptedSessionSchema,
  reviewScriptOf,
  taskScriptOf,
} from './scripted-session.ts';
