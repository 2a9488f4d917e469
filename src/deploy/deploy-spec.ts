import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LokiError } from '../errors/index.ts';
import { ARCHITECTURE_JSON_FILE, deploymentSchema, OPENAPI_FILE } from '../planning/index.ts';
import { smokePathsFromOpenApi } from './smoke-paths.ts';

/** How a product is started, checked and smoke-tested, as the architecture says. */
export interface DeploySpec {
  startCommand: string;
  healthPath: string;
  buildCommand: string | null;
  smokePaths: string[];
}

const architectureDeploymentSchema = z.object({ deployment: deploymentSchema.nullable() });

/**
 * The deployment settings written by the Architecture phase (`.loki/specs/architecture.json`) and
 * the smoke paths of its OpenAPI document. Refused with a message saying what to do when the
 * product is not a service (no deployment settings) or no architecture exists yet.
 */
export function readDeploySpec(specsDirectory: string): DeploySpec {
  const path = join(specsDirectory, ARCHITECTURE_JSON_FILE);
  if (!existsSync(path)) {
    throw new LokiError(`${path} does not exist: nothing says how to start the product; run loki run first`, {
      code: 'DEPLOY_NO_ARCHITECTURE',
      category: 'user',
      context: { path },
    });
  }
  const parsed = architectureDeploymentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new LokiError(
      `${path} has invalid deployment settings (${parsed.error.issues[0]?.message ?? 'invalid'}); fix it`,
      {
        code: 'DEPLOY_SPEC_INVALID',
        category: 'user',
        context: { path },
      },
    );
  }
  const deployment = parsed.data.deployment;
  if (deployment === null) {
    throw new LokiError(
      'The architecture says the product is not a service (deployment: null): there is nothing to deploy',
      {
        code: 'DEPLOY_NOT_A_SERVICE',
        category: 'user',
        context: { path },
      },
    );
  }
  const openApiPath = join(specsDirectory, OPENAPI_FILE);
  const smokePaths = existsSync(openApiPath) ? smokePathsFromOpenApi(readFileSync(openApiPath, 'utf8')) : [];
  return {
    startCommand: deployment.startCommand,
    healthPath: deployment.healthPath,
    buildCommand: deployment.buildCommand ?? null,
    smokePaths: smokePaths.filter((smokePath) => smokePath !== deployment.healthPath),
  };
}
