import { runGit } from '../git/index.ts';
import { readWorktreeFile, SYMBOLIC_LINK } from './find-tampering.ts';
import { findMarkers, findTestCases, isEmptyBody, isTestFilePath } from './test-file-shape.ts';

export interface ChangedTestFile {
  path: string;
  /** Null: the file was deleted. */
  content: string | null;
}

/**
 * The test files a worktree changed since `baseCommit`, committed or not (untracked files
 * included), with their content as the worktree holds it: what a QA task wrote, and so what it seals.
 * Symbolic links are left out.
 */
export async function changedTestFiles(
  worktreePath: string,
  baseCommit: string,
  signal?: AbortSignal,
): Promise<ChangedTestFile[]> {
  const options = { ...(signal === undefined ? {} : { signal }) };
  const [tracked, untracked] = await Promise.all([
    runGit(worktreePath, ['diff', '--name-only', '--no-renames', '-z', baseCommit], options),
    runGit(worktreePath, ['ls-files', '--others', '--exclude-standard', '-z'], options),
  ]);
  const paths = new Set([...tracked.stdout.split('\0'), ...untracked.stdout.split('\0')]);
  return (
    [...paths]
      .filter((path) => path !== '' && isTestFilePath(path))
      .sort()
      .map((path) => ({ path, content: readWorktreeFile(worktreePath, path) }))
      // A link is never sealed: its target is not the test, and writing it elsewhere could leave the worktree.
      .filter((file) => file.content !== SYMBOLIC_LINK)
  );
}

/**
 * What is wrong with the acceptance tests a QA task wrote, one problem a line; empty when they
 * will do: at least one test file, every requirement named in a test's name (`REQ-003 …`, or
 * `test_req_003_…` where names cannot hold a dash), no skipped or focused test, no test without an
 * assertion. They are expected to fail until the implementation exists, so nothing runs them here.
 */
export function problemsWithAcceptanceTests(
  files: readonly ChangedTestFile[],
  requirementIds: readonly string[],
): string[] {
  const written = files.filter((file): file is { path: string; content: string } => file.content !== null);
  if (written.length === 0) {
    return ['no test file was written (name it like *.test.ts, *.spec.js, test_*.py or *_test.go)'];
  }
  const problems: string[] = [];
  const names: string[] = [];
  for (const file of written) {
    for (const hit of findMarkers(file.content)) {
      problems.push(`${file.path}: line ${hit.line} uses ${hit.marker}; acceptance tests must all run`);
    }
    const tests = findTestCases(file.path, file.content);
    if (tests.length === 0) problems.push(`${file.path}: holds no test case`);
    for (const test of tests) {
      names.push(normalized(test.name));
      if (isEmptyBody(test.body) || test.assertions === 0) {
        problems.push(`${file.path}: test "${test.name}" (line ${test.line}) asserts nothing`);
      }
    }
  }
  for (const id of requirementIds) {
    if (!names.some((name) => name.includes(normalized(id)))) {
      problems.push(`no test names requirement ${id} (e.g. "${id} …" in the test's name)`);
    }
  }
  return problems;
}

function normalized(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, '');
}
