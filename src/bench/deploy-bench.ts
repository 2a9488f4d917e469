import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../deploy/index.ts';
import { SupervisorClient } from '../deploy/local/supervisor-client.ts';
import { describeEnvironment } from './bench-environment.ts';
import { LOAD_PAUSE_MILLISECONDS, type LoadCount, startLoad, waitForBody } from './deploy-probes.ts';
import { buildCli } from './orchestration-bench.ts';
import { distribution } from './orchestration-timings.ts';
import { runLokiProcess } from './run-loki-process.ts';
import { median, roundTo } from './timing.ts';

const SWITCHES = 10;
const POLL_MILLISECONDS = 5;
const LOAD_CONCURRENCY = 2;
/** A switch not served by then counts as missed (and the bench goes on with the next one). */
const SWITCH_DEADLINE_MILLISECONDS = 15_000;

/**
 * What every rollback pays before its own work: Node alone (`--version` answers before the CLI is
 * loaded), the CLI's modules (`--help`), and those plus opening the workspace and asking the
 * supervisor (`deploy status`).
 */
const FLOOR_COMMANDS = [['--version'], ['--help'], ['deploy', 'status', '--json']];
const FLOOR_RUNS = 5;

export const DEPLOY_TARGETS = { maximumSwitchMilliseconds: 1_000 };

/** A tiny product: `/` answers its version, `/health` 200; the version comes from release.json. */
const SERVER_SOURCE = `const http = require('node:http');
const { version } = require('./release.json');
http.createServer((request, response) => {
  if (request.url === '/health') response.writeHead(200).end('ok');
  else response.writeHead(200).end('version ' + version);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

interface SwitchSample {
  command: string;
  toVersion: string;
  exitCode: number | null;
  /** Spawn → exit of the `loki rollback` process. */
  processMilliseconds: number;
  /** Spawn → the first answer of the other version through the proxy; null: not within the deadline. */
  servedMilliseconds: number | null;
}

/**
 * `loki rollback` on the local target as a user runs it: a workspace with v1 and v2 deployed (both
 * warm), then `loki rollback` and `loki rollback --to v2` in turn, each timed as a process and by
 * when the proxy serves the other version, with a light load running through every switch.
 */
export async function runDeployBenchmark(repositoryRoot: string): Promise<void> {
  const environment = describeEnvironment(tmpdir());
  const loadAverageAtStart = loadAverageNow();
  log('building dist/ (the CLI runs the compiled code)');
  buildCli(repositoryRoot);
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-deploy-'));
  const workspace = join(directory, 'product');
  const home = join(directory, 'home');
  mkdirSync(workspace);
  mkdirSync(home);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    GIT_AUTHOR_NAME: 'Loki Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'Loki Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
  const loki = async (args: readonly string[]) => {
    const result = await runLokiProcess([join(repositoryRoot, 'bin', 'loki.js'), ...args], {
      cwd: workspace,
      env,
    });
    return result;
  };
  const processIds = new Set<number>();
  let measured: Measured | null = null;
  let failure: unknown = null;
  try {
    measured = await measure(loki, { repositoryRoot, workspace, env, processIds });
  } catch (error) {
    // Kept to rethrow after the deployment is stopped: a failed bench must leave no process either.
    failure = error;
  }
  log('loki deploy stop');
  const stopped = await loki(['deploy', 'stop']);
  const left = [...processIds].filter((pid) => isAlive(pid));
  rmSync(directory, { recursive: true, force: true });
  if (failure !== null) throw failure;
  if (measured === null) throw new Error('the deploy bench measured nothing');
  if (stopped.exitCode !== 0) throw new Error(`loki deploy stop failed: ${stopped.stderr.trim()}`);
  const report = buildReport({
    environment,
    ...measured,
    cleanup: { processesWatched: processIds.size, leftAfterDeployStop: left },
    loadAverage: { atStart: loadAverageAtStart, atEnd: loadAverageNow() },
  });
  const resultsDirectory = join(repositoryRoot, 'bench', 'results');
  mkdirSync(resultsDirectory, { recursive: true });
  const resultPath = join(resultsDirectory, 'deploy.json');
  writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${summarize(report)}\nwritten to ${resultPath}\n`);
}

type Loki = (args: readonly string[]) => ReturnType<typeof runLokiProcess>;

interface Measured {
  floors: Floor[];
  switches: SwitchSample[];
  traffic: LoadCount;
}

/** Deploys v1 and v2, then times the switches under a light load. */
async function measure(
  loki: Loki,
  context: { repositoryRoot: string; workspace: string; env: NodeJS.ProcessEnv; processIds: Set<number> },
): Promise<Measured> {
  const { workspace, env, processIds } = context;
  await mustSucceed(loki(['init']), 'loki init');
  writeProduct(workspace);
  commitVersion(workspace, env, '1');
  log('loki deploy v1');
  await mustSucceed(loki(['deploy', '--json']), 'loki deploy (v1)');
  commitVersion(workspace, env, '2');
  log('loki deploy v2 (blue-green: v1 stays warm)');
  const second = await mustSucceed(loki(['deploy', '--json']), 'loki deploy (v2)');
  const url = (JSON.parse(second.stdout) as { url: string }).url;
  await rememberProcesses(workspace, processIds);

  log(`${SWITCHES} switches: loki rollback / loki rollback --to v2, a light load through them`);
  const load = startLoad(url, LOAD_CONCURRENCY);
  const switches: SwitchSample[] = [];
  for (let index = 0; index < SWITCHES; index += 1) {
    switches.push(await timeSwitch(loki, switchArguments(index), url, index % 2 === 0 ? 'v1' : 'v2'));
    await rememberProcesses(workspace, processIds);
  }
  // Under the same load as the switches, so that the floors and the rollbacks compare like for like.
  log('loki --version, loki --help, loki deploy status: the floors a rollback stands on');
  const floors: Floor[] = [];
  for (const args of FLOOR_COMMANDS) floors.push(await timeFloor(loki, args));
  return { floors, switches, traffic: await load.stop() };
}

interface Floor {
  command: string;
  medianMilliseconds: number;
  samplesMilliseconds: number[];
}

/** `FLOOR_RUNS` timed runs of one command after an untimed warm-up (a cold file cache is not the figure). */
async function timeFloor(loki: Loki, args: readonly string[]): Promise<Floor> {
  const samples: number[] = [];
  for (let run = 0; run <= FLOOR_RUNS; run += 1) {
    const result = await mustSucceed(loki(args), `loki ${args.join(' ')}`);
    if (run > 0) samples.push(roundTo(result.wallMilliseconds, 1));
  }
  return {
    command: `loki ${args.join(' ')}`,
    medianMilliseconds: roundTo(median(samples), 1),
    samplesMilliseconds: samples,
  };
}

/** Back to v1 with a plain `loki rollback`, forward to v2 with `--to v2`, in turn. */
function switchArguments(index: number): string[] {
  return index % 2 === 0 ? ['rollback', '--json'] : ['rollback', '--to', 'v2', '--json'];
}

/** Spawns one `loki rollback` and, at the same time, polls the proxy for the version it goes to. */
async function timeSwitch(
  loki: Loki,
  args: readonly string[],
  url: string,
  toVersion: string,
): Promise<SwitchSample> {
  const fromBody = await waitForBody(url, `version ${toVersion === 'v1' ? '2' : '1'}`, {
    intervalMilliseconds: POLL_MILLISECONDS,
    deadline: performance.now() + SWITCH_DEADLINE_MILLISECONDS,
  });
  // A switch measured from the version it goes to would time nothing.
  if (fromBody === null)
    throw new Error(`before switching to ${toVersion}, the proxy does not serve the other version`);
  const started = performance.now();
  const served = waitForBody(url, `version ${toVersion.slice(1)}`, {
    intervalMilliseconds: POLL_MILLISECONDS,
    deadline: started + SWITCH_DEADLINE_MILLISECONDS,
  });
  const run = await loki(args);
  const servedAt = await served;
  if (run.exitCode !== 0)
    log(`loki ${args.join(' ')} exited with ${String(run.exitCode)}: ${run.stderr.trim()}`);
  return {
    command: `loki ${args.filter((arg) => arg !== '--json').join(' ')}`,
    toVersion,
    exitCode: run.exitCode,
    processMilliseconds: roundTo(run.wallMilliseconds, 1),
    servedMilliseconds: servedAt === null ? null : roundTo(servedAt - started, 1),
  };
}

/** The supervisor's and its apps' process ids, to check that none outlives `loki deploy stop`. */
async function rememberProcesses(workspace: string, into: Set<number>): Promise<void> {
  const status = await new SupervisorClient(workspace).status();
  if (status === null) return;
  into.add(status.pid);
  for (const app of status.apps) if (app.pid !== null) into.add(app.pid);
}

async function mustSucceed<T extends { exitCode: number | null; stderr: string }>(
  running: Promise<T>,
  what: string,
): Promise<T> {
  const result = await running;
  if (result.exitCode !== 0)
    throw new Error(`${what} exited with ${String(result.exitCode)}: ${result.stderr.trim()}`);
  return result;
}

function writeProduct(workspace: string): void {
  const config = join(workspace, '.loki', 'config');
  mkdirSync(config, { recursive: true });
  // Only the quick gates at Deployment: the performance and accessibility gates are not what is timed.
  writeFileSync(join(config, 'gates.yaml'), 'qa: [unit-tests]\ndeployment: [unit-tests]\n');
  writeFileSync(join(workspace, 'server.js'), SERVER_SOURCE);
  const specs = join(workspace, '.loki', 'specs');
  mkdirSync(specs, { recursive: true });
  writeFileSync(
    join(specs, 'architecture.json'),
    JSON.stringify({ deployment: { startCommand: 'node server.js', healthPath: '/health' } }),
  );
}

function commitVersion(workspace: string, env: NodeJS.ProcessEnv, version: string): void {
  writeFileSync(join(workspace, 'release.json'), JSON.stringify({ version }));
  const git = (args: string[]) => execFileSync('git', args, { cwd: workspace, env, stdio: 'ignore' });
  git(['add', 'server.js', 'release.json']);
  git(['commit', '-qm', `version ${version}`]);
}

type Report = ReturnType<typeof buildReport>;

function buildReport(input: {
  environment: ReturnType<typeof describeEnvironment>;
  floors: Floor[];
  switches: SwitchSample[];
  traffic: LoadCount;
  cleanup: { processesWatched: number; leftAfterDeployStop: number[] };
  loadAverage: { atStart: number; atEnd: number };
}) {
  const { switches, traffic } = input;
  const target = DEPLOY_TARGETS.maximumSwitchMilliseconds;
  const served = switches.flatMap((sample) =>
    sample.servedMilliseconds === null ? [] : [sample.servedMilliseconds],
  );
  const processes = switches.map((sample) => sample.processMilliseconds);
  const allServed = served.length === switches.length && switches.every((sample) => sample.exitCode === 0);
  const servedSpread = distribution(served);
  const processSpread = distribution(processes);
  return {
    benchmark: 'deploy' as const,
    date: new Date().toISOString(),
    environment: input.environment,
    /** One-minute load average: anything else running on the machine skews every figure. */
    loadAverage: input.loadAverage,
    method:
      'node bin/loki.js in a fresh git workspace with its own HOME: loki init, a node:http product, loki deploy of v1 then v2 ' +
      '(local target: detached supervisor, proxy on one port, v1 kept warm), then ' +
      `${SWITCHES} switches alternating loki rollback (→ v1) and loki rollback --to v2 (→ v2). Each switch: the wall ` +
      'time of the loki rollback process (spawn → exit), and the time from its spawn until GET / through the proxy ' +
      `answers the other version (polled every ${POLL_MILLISECONDS} ms on a keep-alive connection). Meanwhile ` +
      `${LOAD_CONCURRENCY} keep-alive GET loops (a pause of ${LOAD_PAUSE_MILLISECONDS} ms after each answer) count every failed request.`,
    workload: { switches: SWITCHES, pollMilliseconds: POLL_MILLISECONDS, loadConcurrency: LOAD_CONCURRENCY },
    measurements: {
      switchServed: {
        milliseconds: servedSpread,
        target: { maximumMilliseconds: target },
        pass: allServed && servedSpread.max < target,
      },
      rollbackProcess: {
        milliseconds: processSpread,
        target: { maximumMilliseconds: target },
        pass: allServed && processSpread.max < target,
      },
      floors: input.floors.map(({ command, medianMilliseconds, samplesMilliseconds }) => ({
        command,
        medianMilliseconds,
        samplesMilliseconds,
      })),
      /** Median rollback process minus median `loki --help`: what the rollback adds to loading the CLI. */
      rollbackBeyondCliLoadMilliseconds: roundTo(
        processSpread.p50 -
          (input.floors.find((floor) => floor.command === 'loki --help')?.medianMilliseconds ?? 0),
        1,
      ),
      load: { ...traffic, pass: traffic.failed === 0 },
      /** Supervisor and app pids seen during the bench, checked after loki deploy stop. */
      cleanup: { ...input.cleanup, pass: input.cleanup.leftAfterDeployStop.length === 0 },
      switches,
    },
    notes: [
      'switchServed is what a user of the product sees: the time from typing loki rollback until the URL serves the other ' +
        'release. It can be shorter than the process: the CLI records the rollback in the store after the proxy switched.',
      'floors: loki --version is Node start-up alone (bin/loki.js answers it before loading the CLI); loki --help adds ' +
        "loading the CLI's modules (every command's dependencies are imported at start-up); loki deploy status adds " +
        'opening the workspace and one call to the supervisor. Measured after the switches under the same load, 5 runs after a warm-up.',
      'p50 is the median; with 10 samples p95 is the second-largest and max the largest.',
      "Where a rollback's time goes: node --cpu-prof bin/loki.js rollback in a deployed workspace; most of it is loading " +
        "the CLI's modules (compare the loki --help floor), the rest opening the store and the supervisor calls (the sandbox is tried only when a release must start again).",
    ],
  };
}

function verdict(pass: boolean): string {
  return pass ? 'pass' : '*** MISSED ***';
}

function summarize(report: Report): string {
  const { environment, measurements } = report;
  const { switchServed, rollbackProcess, floors, load, cleanup } = measurements;
  const spread = (value: { p50: number; p95: number; max: number }) =>
    `median ${value.p50} ms, p95 ${value.p95} ms, max ${value.max} ms`;
  return [
    '',
    `deploy benchmark — Node ${environment.nodeVersion}, ${environment.cpuCount} × ${environment.cpuModel}, ` +
      `load average ${report.loadAverage.atStart} → ${report.loadAverage.atEnd}`,
    `  rollback → other version served   ${spread(switchServed.milliseconds)} (target < ${switchServed.target.maximumMilliseconds} ms)  ${verdict(switchServed.pass)}`,
    `  loki rollback process             ${spread(rollbackProcess.milliseconds)} (target < ${rollbackProcess.target.maximumMilliseconds} ms)  ${verdict(rollbackProcess.pass)}`,
    ...floors.map((floor) => `  ${floor.command.padEnd(33)} median ${floor.medianMilliseconds} ms`),
    `  rollback beyond loading the CLI   ${measurements.rollbackBeyondCliLoadMilliseconds} ms (median process − median loki --help)`,
    `  requests during the switches      ${load.ok} ok, ${load.failed} failed  ${verdict(load.pass)}`,
    `  after loki deploy stop            ${cleanup.leftAfterDeployStop.length} of ${cleanup.processesWatched} processes left  ${verdict(cleanup.pass)}`,
  ].join('\n');
}

function loadAverageNow(): number {
  return roundTo(loadavg()[0] ?? Number.NaN, 2);
}

function log(message: string): void {
  process.stderr.write(`… ${message}\n`);
}
