/**
 * What the search worker (search-worker.ts) is asked to do and what it answers. Plain data: it
 * crosses a thread boundary by structured clone.
 */
export type SearchJob = GrepJob | GlobJob;

export interface GrepJob {
  kind: 'grep';
  /** The worktree with symlinks resolved; result paths are relative to it. */
  worktree: string;
  /** File or directory to search, resolved and confined to the worktree. */
  start: string;
  pattern: string;
  flags: string;
  /** Only files whose worktree-relative path or name matches this glob. */
  glob: string | null;
  maxResults: number;
}

export interface GlobJob {
  kind: 'glob';
  /** The worktree with symlinks resolved; a match whose real path leaves it is dropped. */
  worktree: string;
  /** Directory to search from, resolved and confined to the worktree. */
  base: string;
  /** `base` relative to the worktree, the prefix of every result. */
  baseRelativePath: string;
  pattern: string;
  maxMatches: number;
}

export interface SearchReply {
  lines: string[];
  /** True when the search stopped at its maximum number of results. */
  isCapped: boolean;
}
