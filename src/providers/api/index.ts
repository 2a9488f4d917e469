export {
  type ApiLanguageModel,
  createApiLanguageModel,
  type CreateApiLanguageModelOptions,
} from './create-api-language-model.ts';
export {
  DEFAULT_MODEL_IDS,
  MODEL_TIERS,
  type ModelOverrides,
  type ModelTier,
  resolveModelId,
} from './model-tiers.ts';
