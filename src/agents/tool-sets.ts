/**
 * The tool permissions agent types are built from, in the order of ALL_TOOLS. Kept as a few named
 * sets so that a permission is a decision about a kind of role, not a per-agent accident.
 */
export const TOOL_SETS = {
  /** Look, never touch: blind reviewers and the orchestrator, whose output is their verdict or plan. */
  readOnly: ['read_file', 'list_dir', 'glob', 'grep', 'git_status', 'git_diff', 'task_complete'],
  /**
   * Write files but run nothing: roles whose output is documents and content (business, product,
   * most growth work), where a shell would add risk and no way to check their work.
   */
  documents: [
    'read_file',
    'write_file',
    'edit_file',
    'list_dir',
    'glob',
    'grep',
    'git_status',
    'git_diff',
    'task_complete',
  ],
  /** Everything, including the sandboxed shell: roles that change code and must run it to know it works. */
  builder: [
    'read_file',
    'write_file',
    'edit_file',
    'list_dir',
    'glob',
    'grep',
    'run_command',
    'git_status',
    'git_diff',
    'task_complete',
  ],
} as const satisfies Record<string, readonly string[]>;
