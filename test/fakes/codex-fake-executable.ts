// A stand-in for the `codex` binary: prints the JSONL lines a test scripted, the way
// `codex exec --json` does, and records how it was invoked. Run by the wrapper that
// `createFakeCodex` writes; not imported by tests.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

interface FakeCodexRun {
  lines: unknown[];
  exitCode: number;
  stderr?: string;
  /** Files to write (relative to the working directory) before printing, as the real agent's edits. */
  writeFiles?: Record<string, string>;
  /** Start a process in its own session (as tools do) whose command line carries this marker, then hang. */
  hangWithGrandchild?: string;
}

const scriptPath = process.env.LOKI_FAKE_CODEX_SCRIPT;
if (scriptPath === undefined) {
  process.stderr.write('fake codex: LOKI_FAKE_CODEX_SCRIPT is not set\n');
  process.exit(90);
}
const runs = (JSON.parse(readFileSync(scriptPath, 'utf8')) as { runs: FakeCodexRun[] }).runs;
const counterPath = `${scriptPath}.count`;
const invocation = existsSync(counterPath) ? Number(readFileSync(counterPath, 'utf8')) : 0;
writeFileSync(counterPath, String(invocation + 1));
appendFileSync(
  `${scriptPath}.invocations.jsonl`,
  `${JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env: process.env })}\n`,
);

const run = runs[invocation];
if (run === undefined) {
  process.stderr.write(`fake codex: no run scripted for invocation ${invocation + 1}\n`);
  process.exit(91);
}
for (const [path, content] of Object.entries(run.writeFiles ?? {})) writeFileSync(path, content);
for (const line of run.lines)
  process.stdout.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
if (run.stderr !== undefined) process.stderr.write(run.stderr);
if (run.hangWithGrandchild !== undefined) {
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', run.hangWithGrandchild], {
    detached: true,
    stdio: 'ignore',
  });
  grandchild.unref();
  setInterval(() => {}, 1000);
} else {
  process.exitCode = run.exitCode;
}
