import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';
import type { RunReport } from '../orchestrator/index.ts';
import { openWorkspaceStore, workspacePaths } from '../workspace/index.ts';
import { parseJsonOrNull } from '../text/index.ts';
import type { AppContext } from './app-context.ts';
import { resolveAppConfig } from './open-app-workspace.ts';

export interface RunReportFiles {
  runId: string;
  report: RunReport;
  jsonPath: string;
  markdownPath: string;
  markdown: string;
}

/** The fields a reader relies on; the rest of the report passes through as written. */
const reportFileSchema = z.looseObject({
  runId: z.string(),
  status: z.string(),
  exitCode: z.number(),
  summary: z.string(),
});

/**
 * The report of a run of the workspace (the latest when `runId` is absent), as the run wrote it
 * when it ended: .loki/artifacts/reports/<run id>.json and .md. A run that has not ended yet has no
 * report: RUN_REPORT_MISSING says so.
 */
export async function readRunReport(context: AppContext, runId?: string): Promise<RunReportFiles> {
  const paths = workspacePaths(context.cwd);
  if (runId !== undefined && !RUN_ID.test(runId)) {
    throw usageError(
      'CLI_INVALID_OPTION',
      `"${runId}" is not a run id (e.g. run-abc123def4); see loki status`,
    );
  }
  const id = runId ?? (await latestRunId(context));
  const jsonPath = join(paths.reportsDirectory, `${id}.json`);
  const markdownPath = join(paths.reportsDirectory, `${id}.md`);
  if (!existsSync(jsonPath) || !existsSync(markdownPath)) {
    throw usageError(
      'RUN_REPORT_MISSING',
      `run ${id} has no report yet (a run writes it when it ends); see loki status`,
    );
  }
  const parsed = reportFileSchema.safeParse(parseJsonOrNull(readFileSync(jsonPath, 'utf8')));
  if (!parsed.success) {
    throw usageError(
      'RUN_REPORT_INVALID',
      `the report ${jsonPath} is not a Loki run report (${parsed.error.issues[0]?.message ?? 'invalid'}); loki resume writes it again`,
    );
  }
  return {
    runId: id,
    report: parsed.data as unknown as RunReport,
    jsonPath,
    markdownPath,
    markdown: readFileSync(markdownPath, 'utf8'),
  };
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

async function latestRunId(context: AppContext): Promise<string> {
  const paths = workspacePaths(context.cwd);
  const storeUrl = resolveAppConfig(context).values.store;
  if (storeUrl === '' && !existsSync(paths.database)) {
    throw usageError(
      'RUN_REPORT_MISSING',
      `no Loki workspace in ${context.cwd}; start one with loki run <prd>`,
    );
  }
  await using store = await openWorkspaceStore(paths, context.clock, undefined, storeUrl);
  const latest = await store.getLatestRun();
  if (latest === null) {
    throw usageError('RUN_REPORT_MISSING', 'this workspace has no run yet; start one with loki run <prd>');
  }
  return latest.id;
}
