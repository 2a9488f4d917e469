export {
  createScriptedLanguageModel,
  SCRIPTED_MODEL_ID,
  type ScriptedLanguageModel,
  type ScriptedLanguageModelOptions,
} from './create-scripted-language-model.ts';
export {
  loadScriptedScript,
  parseScriptedScript,
  type ScriptedScript,
  type ScriptedScriptInput,
  type ScriptedStep,
  scriptedScriptSchema,
} from './scripted-script.ts';
export {
  loadScriptedSession,
  parseScriptedSession,
  type ScriptedSession,
  type ScriptedSessionInput,
  scriptedSessionSchema,
  reviewScriptOf,
  taskScriptOf,
} from './scripted-session.ts';
