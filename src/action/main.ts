import { LOKI_ENTRY_POINT } from '../workspace/index.ts';
import { isLokiError } from '../errors/index.ts';
import { readGitHubActionInputs } from './github-action-inputs.ts';
import { runGitHubAction } from './run-github-action.ts';

/** Entry of the GitHub Action (`action.yml`): its exit code is the step's, Loki's own. */
async function main(): Promise<number> {
  try {
    const inputs = readGitHubActionInputs(process.env);
    const outcome = await runGitHubAction(inputs, LOKI_ENTRY_POINT, providerEnvironment(process.env));
    return outcome.exitCode;
  } catch (error) {
    // `::error::` makes GitHub show the message as an annotation on the run.
    const message = isLokiError(error)
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
    process.stdout.write(`::error title=Loki Mode::${message.replace(/\r?\n/g, '%0A')}\n`);
    return isLokiError(error) ? error.exitCode : 1;
  }
}

/** The action's key inputs, for the provider variables Loki reads; an input left empty sets nothing. */
const KEY_INPUTS = {
  INPUT_ANTHROPIC_API_KEY: 'ANTHROPIC_API_KEY',
  INPUT_OPENAI_API_KEY: 'OPENAI_API_KEY',
  INPUT_OPENAI_BASE_URL: 'OPENAI_BASE_URL',
} as const;

function providerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(env).filter(([name]) => !(name in KEY_INPUTS)),
  );
  for (const [input, variable] of Object.entries(KEY_INPUTS)) {
    const value = env[input];
    if (value === undefined || value === '') continue;
    // Masked in the job log even when the workflow passed it from somewhere other than `secrets`.
    if (variable !== 'OPENAI_BASE_URL') process.stdout.write(`::add-mask::${value}\n`);
    result[variable] = value;
  }
  return result;
}

if (import.meta.main) process.exitCode = await main();
