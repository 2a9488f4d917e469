/** Directories glob and grep never descend into: repository metadata and installed dependencies. */
export const SKIPPED_DIRECTORY_NAMES: ReadonlySet<string> = new Set(['.git', 'node_modules']);
