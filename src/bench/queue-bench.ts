import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchEnvironment, describeEnvironment } from './bench-environment.ts';
import {
  measureBareSqlite,
  measureClaimComplete,
  type ThroughputMeasurement,
} from './claim-complete-bench.ts';
import {
  type CliMeasurement,
  ensureBuilt,
  measureStatus,
  measureVersionStartup,
  type StatusMeasurement,
} from './cli-bench.ts';
import { type CommandTiming, roundTo } from './timing.ts';

/** The figures DESIGN.md promises; a miss is reported loudly but is not an error (this is a measurement). */
export const QUEUE_TARGETS = {
  claimCompleteMinimumOpsPerSecond: 6_000,
  versionStartupMaximumMilliseconds: 150,
  statusMaximumMilliseconds: 400,
};

const CLAIM_COMPLETE_TASKS = 20_000;
const THROUGHPUT_RUNS = 3;
const VERSION_RUNS = 15;
const STATUS_TASKS = 10_000;
const STATUS_RUNS = 10;

export interface QueueBenchReport {
  benchmark: 'queue';
  date: string;
  environment: BenchEnvironment;
  measurements: {
    claimComplete: ThroughputMeasurement & { target: { minimumOpsPerSecond: number }; pass: boolean };
    bareSqliteBaseline: ThroughputMeasurement & { storeToBareRatio: number; note: string };
    versionStartup: Measured<CommandTiming> & { target: { maximumMilliseconds: number }; pass: boolean };
    status10k: Measured<StatusMeasurement> & { target: { maximumMilliseconds: number }; pass: boolean };
  };
}

type Measured<T> = ({ ran: true } & T) | { ran: false; reason: string };

export async function runQueueBenchmark(repositoryRoot: string): Promise<void> {
  const environment = describeEnvironment();
  // os.tmpdir(), not the repository: nothing to clean up in the tree if the bench dies half-way. Its
  // file system is recorded in the report (tmpfs would flatter the figures).
  const directory = mkdtempSync(join(tmpdir(), 'loki-bench-queue-'));
  let report: QueueBenchReport;
  try {
    log(`claim+complete: ${THROUGHPUT_RUNS} runs × ${CLAIM_COMPLETE_TASKS} tasks in ${directory}`);
    const claimComplete = await measureClaimComplete(directory, CLAIM_COMPLETE_TASKS, THROUGHPUT_RUNS);
    log('bare node:sqlite baseline');
    const bare = await measureBareSqlite(directory, CLAIM_COMPLETE_TASKS, THROUGHPUT_RUNS);

    const build = ensureBuilt(repositoryRoot);
    log(`loki --version × ${VERSION_RUNS}`);
    const version = build.ran ? measureVersionStartup(repositoryRoot, VERSION_RUNS) : build;
    log(`loki status on ${STATUS_TASKS} tasks × ${STATUS_RUNS}`);
    const status = build.ran ? await measureStatus(repositoryRoot, STATUS_TASKS, STATUS_RUNS) : build;

    report = {
      benchmark: 'queue',
      date: new Date().toISOString(),
      environment,
      measurements: {
        claimComplete: {
          ...claimComplete,
          target: { minimumOpsPerSecond: QUEUE_TARGETS.claimCompleteMinimumOpsPerSecond },
          pass: claimComplete.medianOpsPerSecond >= QUEUE_TARGETS.claimCompleteMinimumOpsPerSecond,
        },
        bareSqliteBaseline: {
          ...bare,
          storeToBareRatio: roundTo(claimComplete.medianOpsPerSecond / bare.medianOpsPerSecond, 3),
          note:
            'raw prepared statements on the same schema and data: candidate SELECT (INDEXED BY tasks_claimable, no ' +
            'dependency check, no lease-reclaim query), UPDATE, INSERT event; then UPDATE, INSERT event',
        },
        versionStartup: {
          ...flatten(version),
          target: { maximumMilliseconds: QUEUE_TARGETS.versionStartupMaximumMilliseconds },
          pass:
            version.ran && version.value.medianMilliseconds < QUEUE_TARGETS.versionStartupMaximumMilliseconds,
        },
        status10k: {
          ...flatten(status),
          target: { maximumMilliseconds: QUEUE_TARGETS.statusMaximumMilliseconds },
          pass:
            status.ran &&
            status.value.status.medianMilliseconds < QUEUE_TARGETS.statusMaximumMilliseconds &&
            status.value.statusJson.medianMilliseconds < QUEUE_TARGETS.statusMaximumMilliseconds,
        },
      },
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  const resultsDirectory = join(repositoryRoot, 'bench', 'results');
  mkdirSync(resultsDirectory, { recursive: true });
  const resultPath = join(resultsDirectory, 'queue.json');
  writeFileSync(resultPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${summarize(report)}\nwritten to ${resultPath}\n`);
}

function flatten<T extends object>(measurement: CliMeasurement<T>): Measured<T> {
  return measurement.ran ? { ran: true, ...measurement.value } : measurement;
}

function verdict(pass: boolean, ran = true): string {
  if (!ran) return 'NOT RUN';
  return pass ? 'pass' : '*** MISSED ***';
}

function summarize(report: QueueBenchReport): string {
  const { environment, measurements } = report;
  const { claimComplete, bareSqliteBaseline, versionStartup, status10k } = measurements;
  const lines = [
    '',
    `queue benchmark — Node ${environment.nodeVersion}, SQLite ${environment.sqliteVersion}, ` +
      `${environment.cpuCount} × ${environment.cpuModel}, temp dir on ${environment.temporaryDirectory.fileSystem}`,
    `  claim+complete   ${claimComplete.medianOpsPerSecond} pairs/s (target ≥ ${claimComplete.target.minimumOpsPerSecond})` +
      `  ${verdict(claimComplete.pass)}`,
    `  bare node:sqlite ${bareSqliteBaseline.medianOpsPerSecond} pairs/s (store reaches ` +
      `${Math.round(bareSqliteBaseline.storeToBareRatio * 100)} % of it)`,
  ];
  if (versionStartup.ran) {
    lines.push(
      `  --version        ${versionStartup.medianMilliseconds} ms (target < ${versionStartup.target.maximumMilliseconds})` +
        `  ${verdict(versionStartup.pass)}`,
    );
  } else {
    lines.push(`  --version        ${verdict(false, false)}: ${versionStartup.reason}`);
  }
  if (status10k.ran) {
    lines.push(
      `  status (10k)     ${status10k.status.medianMilliseconds} ms, --json ${status10k.statusJson.medianMilliseconds} ms` +
        ` (target < ${status10k.target.maximumMilliseconds})  ${verdict(status10k.pass)}`,
    );
  } else {
    lines.push(`  status (10k)     ${verdict(false, false)}: ${status10k.reason}`);
  }
  const missed = [claimComplete, versionStartup, status10k].filter((measurement) => !measurement.pass).length;
  lines.push(missed === 0 ? 'all targets met' : `*** ${missed} TARGET(S) MISSED OR NOT RUN ***`);
  return lines.join('\n');
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
