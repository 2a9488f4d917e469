import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonOrNull } from '../text/index.ts';

/** A command a gate can run on a project, with the file it was found from. */
export interface ProjectCommand {
  command: string;
  /** What says this is the project's command: `package.json (scripts.test)`, `go.mod`. */
  foundIn: string;
}

/** What npm init writes as the test script: a project with it has no tests. */
const NPM_PLACEHOLDER_TEST = /no test specified/;

/** Only what the gates read of a package.json; anything else in it is the project's business. */
const packageJsonSchema = z.looseObject({ scripts: z.record(z.string(), z.unknown()).optional() });

function packageScripts(directory: string): Record<string, string> {
  const path = join(directory, 'package.json');
  if (!existsSync(path)) return {};
  const parsed = packageJsonSchema.safeParse(parseJsonOrNull(readFileSync(path, 'utf8')));
  if (!parsed.success) return {};
  return Object.fromEntries(
    Object.entries(parsed.data.scripts ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

function hasPythonTests(directory: string): boolean {
  if (['pytest.ini', 'conftest.py', 'tox.ini'].some((name) => existsSync(join(directory, name)))) return true;
  const pyproject = join(directory, 'pyproject.toml');
  if (existsSync(pyproject) && readFileSync(pyproject, 'utf8').includes('[tool.pytest')) return true;
  const candidates = [directory, join(directory, 'tests'), join(directory, 'test')];
  return candidates.some(
    (candidate) =>
      existsSync(candidate) && readdirSync(candidate).some((name) => /^test_.*\.py$|_test\.py$/.test(name)),
  );
}

/** The project's test command: its npm test script, pytest, or go test (verbose, for per-test lines). */
export function findTestCommand(directory: string): ProjectCommand | null {
  const scripts = packageScripts(directory);
  const test = scripts.test;
  if (test !== undefined && !NPM_PLACEHOLDER_TEST.test(test)) {
    return { command: 'npm test', foundIn: 'package.json (scripts.test)' };
  }
  if (hasPythonTests(directory)) return { command: 'python3 -m pytest', foundIn: 'pytest files' };
  if (existsSync(join(directory, 'go.mod'))) return { command: 'go test -v ./...', foundIn: 'go.mod' };
  return null;
}

/** The project's linter: its npm lint script, or ESLint when it is configured and installed. */
export function findLintCommand(directory: string): ProjectCommand | null {
  if (packageScripts(directory).lint !== undefined) {
    return { command: 'npm run lint', foundIn: 'package.json (scripts.lint)' };
  }
  const eslintConfig = [
    'eslint.config.js',
    'eslint.config.mjs',
    'eslint.config.cjs',
    'eslint.config.ts',
  ].find((name) => existsSync(join(directory, name)));
  if (eslintConfig !== undefined && existsSync(join(directory, 'node_modules', '.bin', 'eslint'))) {
    return { command: 'node_modules/.bin/eslint .', foundIn: eslintConfig };
  }
  if (existsSync(join(directory, 'go.mod'))) return { command: 'go vet ./...', foundIn: 'go.mod' };
  return null;
}

/** The project's type check: its npm typecheck script, or tsc when there is a tsconfig.json. */
export function findTypeCheckCommand(directory: string): ProjectCommand | 'typescript-missing' | null {
  if (packageScripts(directory).typecheck !== undefined) {
    return { command: 'npm run typecheck', foundIn: 'package.json (scripts.typecheck)' };
  }
  if (!existsSync(join(directory, 'tsconfig.json'))) return null;
  if (!existsSync(join(directory, 'node_modules', '.bin', 'tsc'))) return 'typescript-missing';
  return { command: 'node_modules/.bin/tsc --noEmit -p .', foundIn: 'tsconfig.json' };
}

/**
 * A test suite the project runs by its own script name (`test:integration`, `test:e2e`): the names
 * npm projects use for them, first found wins.
 */
export function findScriptCommand(directory: string, names: readonly string[]): ProjectCommand | null {
  const scripts = packageScripts(directory);
  const name = names.find((candidate) => scripts[candidate] !== undefined);
  return name === undefined
    ? null
    : { command: `npm run ${name}`, foundIn: `package.json (scripts.${name})` };
}
