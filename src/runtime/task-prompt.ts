import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TaskWorktree } from '../git/index.ts';
import type { Task } from '../store/index.ts';
import type { ContinuityFile } from '../workspace/index.ts';

const MAX_LISTED_FILES = 200;
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules', '.loki', 'dist', 'coverage']);

/** The task prompt in the seed's structure: GOAL, CONSTRAINTS, CONTEXT, OUTPUT FORMAT, WHEN COMPLETE. */
export function buildTaskPrompt(options: {
  task: Task;
  worktree: TaskWorktree;
  continuity: ContinuityFile;
  verifyCommand: string | null;
  /** The worktree's files when known without reading it (e.g. the worktree is still being created). */
  files?: readonly string[];
}): string {
  const { task, worktree, continuity } = options;
  const files = options.files?.slice(0, MAX_LISTED_FILES) ?? listFiles(worktree.path);
  const lessons = continuity.section('Mistakes & Learnings');
  const decisions = continuity.section('Key Decisions');
  const sections = [
    `GOAL:\n${task.title}${task.description.trim() === '' ? '' : `\n\n${task.description.trim()}`}`,
    [
      'CONSTRAINTS:',
      `- Task ${task.id}, agent type ${task.type}, priority ${task.priority}/10.`,
      '- Work only inside your worktree (the current directory); paths are relative to it.',
      options.verifyCommand === null
        ? '- There is no verify command: check your work with run_command yourself.'
        : `- The harness verifies the task by running \`${options.verifyCommand}\`; it must exit 0.`,
      // Traceability reads requirement IDs from test names only: a requirement is proven by a
      // passing test that names it, so an unnamed test proves nothing in the report.
      "- Name the requirement IDs a test proves in the test's name, e.g. `it('REQ-003 marks a todo completed', …)` (`test_req_003_…` in Python, `TestREQ003…` in Go): a requirement counts as proven only by a passing test that names it.",
    ].join('\n'),
    [
      'CONTEXT:',
      `Files in the worktree (${files.length === 0 ? 'none yet' : files.length >= MAX_LISTED_FILES ? `first ${MAX_LISTED_FILES}` : files.length}):`,
      ...files.map((file) => `  ${file}`),
      ...(decisions === '' ? [] : ['', 'Key decisions so far:', decisions]),
      ...(lessons === '' ? [] : ['', 'Mistakes & Learnings (do not repeat these):', lessons]),
    ].join('\n'),
    'OUTPUT FORMAT:\nMake the changes with the file tools, check them with run_command, then call task_complete with summary, files_changed and tests_run.',
    'WHEN COMPLETE:\nCall task_complete. Claim only what you checked: the harness re-runs the verification itself.',
  ];
  return sections.join('\n\n');
}

function listFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((left, right) =>
      left.name.localeCompare(right.name),
    )) {
      if (files.length >= MAX_LISTED_FILES) return;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(join(directory, entry.name));
      } else {
        files.push(relative(root, join(directory, entry.name)));
      }
    }
  };
  walk(root);
  return files;
}
