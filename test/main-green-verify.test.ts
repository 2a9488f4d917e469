import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loki, parseJsonOutput, TempWorkspace } from './support/cli-harness.ts';
import { mergedTaskIds, prepareRun, readEvents, readJsonFile } from './support/run-harness.ts';

const GATE = 'test -s files/hand.txt || test ! -e files/hand.txt';

describe('work that nothing of its own verifies', () => {
  it("verifies a task without verify commands with the project's gates, and fails a malformed payload by name", async () => {
    using workspace = new TempWorkspace();
    const args = prepareRun(workspace, {
      tasks: [{ id: 'one', files: { 'files/one.txt': 'one\n' } }],
      verifyCommands: [GATE],
    });
    // Added by hand: no payload at all, so nothing of its own to verify. Its agent first writes an
    // empty file, which only the project's gate refuses.
    const sessionPath = join(workspace.root, 'session.json');
    const session = readJsonFile<{ tasks: Record<string, unknown> }>(sessionPath);
    const write = (content: string) => ({
      toolCalls: [{ toolName: 'write_file', input: { path: 'files/hand.txt', content } }],
    });
    const complete = {
      toolCalls: [
        { toolName: 'task_complete', input: { summary: 'done', files_changed: [], tests_run: [] } },
      ],
    };
    session.tasks.hand = [write(''), complete, write('by hand\n'), complete];
    writeFileSync(sessionPath, JSON.stringify(session));
    expect((await loki(workspace, ['init'])).exitCode).toBe(0);
    const add = (id: string, extra: string[]) =>
      loki(workspace, ['queue', 'add', `Task ${id}`, '--type', 'eng-backend', '--id', id, ...extra]);
    expect((await add('hand', [])).exitCode).toBe(0);
    expect(
      (await add('bad-payload', ['--payload', '{"verifyCommands":"npm test"}', '--max-attempts', '1']))
        .exitCode,
    ).toBe(0);

    const result = await loki(workspace, ['run', 'prd.md', ...args, '--json']);
    expect(result.exitCode, result.stdout.slice(-3000)).toBe(0);
    const handVerifications = readEvents(result.stdout).filter(
      (event) => event.type === 'verification.ran' && event.taskId === 'hand',
    );
    // The project's gates joined: this test's own, then the generated session's named tests.
    const projectGates = expect.stringContaining(`( ${GATE} ) && ( s=0; `);
    expect(handVerifications.map((event) => event.data)).toMatchObject([
      { command: projectGates, passed: false },
      { command: projectGates, passed: true },
    ]);
    expect(mergedTaskIds(workspace.root).sort()).toEqual(['hand', 'one']);

    const bad = parseJsonOutput<{ task: { status: string; lastError: string } }>(
      await loki(workspace, ['queue', 'show', 'bad-payload', '--json']),
    );
    expect(bad.task.status).toBe('dead_letter');
    expect(bad.task.lastError).toMatch(/task bad-payload has a malformed payload: verifyCommands/);
  }, 90_000);
});
