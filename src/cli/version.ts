import { readFileSync } from 'node:fs';

/** Read from package.json at startup so the version is never out of step with the package. */
function readVersion(): string {
  const packageJson: unknown = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  if (typeof packageJson === 'object' && packageJson !== null && 'version' in packageJson) {
    return String(packageJson.version);
  }
  return '0.0.0';
}

export const LOKI_VERSION = readVersion();
