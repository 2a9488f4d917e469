import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { DatabaseSync } from 'node:sqlite';

export interface BenchEnvironment {
  nodeVersion: string;
  sqliteVersion: string;
  platform: string;
  osRelease: string;
  architecture: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryGigabytes: number;
  /** Where the databases were written, and on what kind of file system (tmpfs would flatter the figures). */
  temporaryDirectory: { path: string; fileSystem: string };
}

/** `temporaryDirectory`: where the bench writes (default: the system temp directory). */
export function describeEnvironment(temporaryDirectory: string = tmpdir()): BenchEnvironment {
  const database = new DatabaseSync(':memory:');
  const sqliteVersion = String(database.prepare('SELECT sqlite_version() AS version').get()?.version);
  database.close();
  const processors = cpus();
  const temporaryPath = realpathSync(temporaryDirectory);
  return {
    nodeVersion: process.version,
    sqliteVersion,
    platform: platform(),
    osRelease: release(),
    architecture: arch(),
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cpuCount: processors.length,
    totalMemoryGigabytes: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    temporaryDirectory: { path: temporaryPath, fileSystem: fileSystemOf(temporaryPath) },
  };
}

/** The file system type of the mount that holds `path`, from /proc/mounts (Linux); "unknown" elsewhere. */
export function fileSystemOf(path: string): string {
  if (!existsSync('/proc/mounts')) return 'unknown';
  let bestMountPoint = '';
  let bestType = 'unknown';
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (mountPoint === undefined || type === undefined) continue;
    const isPrefix =
      path === mountPoint || path.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`);
    if (isPrefix && mountPoint.length > bestMountPoint.length) {
      bestMountPoint = mountPoint;
      bestType = type;
    }
  }
  return bestType;
}
