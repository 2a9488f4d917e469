import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/**
 * Fake deploy CLIs (vercel, flyctl, kubectl...) as real executables on a temporary PATH: each
 * records its arguments and answers from rules, so the real adapters spawn real processes and the
 * tests assert the exact argument lists against the CLIs' documented usage.
 */
export interface FakeCliRule {
  /** Matched as a prefix of the arguments; `*` matches any one argument. */
  args: readonly string[];
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Used for one matching call only (then the next matching rule answers): for sequences. */
  once?: boolean;
}

export interface FakeCliCall {
  cli: string;
  args: string[];
  /** Which of the watched credential variables were set (names only). */
  credentials: string[];
}

const WATCHED_CREDENTIALS = ['VERCEL_TOKEN', 'NETLIFY_AUTH_TOKEN', 'FLY_API_TOKEN', 'RAILWAY_TOKEN'];

/** CommonJS on purpose: the script has no extension and no package.json types it as a module. */
const FAKE_SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const name = path.basename(process.argv[1]);
const directory = path.dirname(process.argv[1]);
const args = process.argv.slice(2);
const credentials = ${JSON.stringify(WATCHED_CREDENTIALS)}.filter((key) => (process.env[key] ?? '') !== '');
fs.appendFileSync(path.join(directory, 'calls.jsonl'), JSON.stringify({ cli: name, args, credentials }) + '\\n');
const rules = JSON.parse(fs.readFileSync(path.join(directory, name + '.rules.json'), 'utf8'));
const usedPath = path.join(directory, name + '.used.json');
const used = fs.existsSync(usedPath) ? JSON.parse(fs.readFileSync(usedPath, 'utf8')) : [];
const index = rules.findIndex((rule, position) =>
  !(rule.once && used.includes(position)) &&
  rule.args.every((expected, at) => expected === '*' ? at < args.length : args[at] === expected));
if (index < 0) {
  process.stderr.write('fake ' + name + ': unexpected arguments ' + JSON.stringify(args) + '\\n');
  process.exit(97);
}
const rule = rules[index];
if (rule.once) fs.writeFileSync(usedPath, JSON.stringify([...used, index]));
if (rule.stdout) process.stdout.write(rule.stdout);
if (rule.stderr) process.stderr.write(rule.stderr);
process.exit(rule.exitCode ?? 0);
`;

export class FakeCloudClis {
  readonly directory = mkdtempSync(join(tmpdir(), 'loki-fake-cli-'));

  install(name: string, rules: readonly FakeCliRule[]): void {
    const path = join(this.directory, name);
    writeFileSync(path, FAKE_SCRIPT);
    chmodSync(path, 0o755);
    writeFileSync(join(this.directory, `${name}.rules.json`), JSON.stringify(rules));
    rmSync(join(this.directory, `${name}.used.json`), { force: true });
  }

  calls(): FakeCliCall[] {
    let text = '';
    try {
      text = readFileSync(join(this.directory, 'calls.jsonl'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FakeCliCall);
  }

  /** Argument lists of one CLI, in call order. */
  argsOf(cli: string): string[][] {
    return this.calls()
      .filter((call) => call.cli === cli)
      .map((call) => call.args);
  }

  /** PATH holds only the fakes and node (the fakes' interpreter): no real CLI can answer. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: [this.directory, dirname(process.execPath)].join(delimiter),
      HOME: this.directory,
      ...extra,
    };
  }

  remove(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
