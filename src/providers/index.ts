export * from './api/index.ts';
export * from './failures/index.ts';
export * from './pricing/index.ts';
export * from './scripted/index.ts';
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
  type ProviderSelection,
  type ProviderSelectionSource,
  selectProvider,
  type SelectProviderOptions,
} from './select-provider.ts';
export * from './cli/index.ts';
