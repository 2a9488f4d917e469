import type { CommandDenyRule } from './command-policy.ts';

/**
 * Where a command word can start: the beginning, after a separator or a subshell, or as the
 * script of `sh -c '...'` / `eval`, optionally behind wrappers (`sudo`, `env X=1`, `xargs`) and with
 * an absolute program path (`/bin/rm`). A best-effort screen, not a parser: the sandbox is the
 * boundary, this catches the obvious disasters early with a message the agent can act on.
 */
const START =
  String.raw`(?:^|[;&|(\n` +
  '`' +
  String.raw`]|\$\(|(?:\s-c|\beval)\s+['"]?)\s*(?:(?:sudo|doas|exec|command|nohup|time|nice|busybox|xargs|env)(?:\s+-\S+)*\s+|[A-Za-z_]\w*=\S*\s+)*(?:/\S*/)?`;
/** The rest of one simple command: stops at a separator. */
const SAME_COMMAND = String.raw`[^;&|\n]*`;
/** After a target: end of the word. */
const WORD_END = String.raw`(?=$|[\s;&|)'"])`;

export const DEFAULT_COMMAND_DENY_RULES: readonly CommandDenyRule[] = [
  {
    id: 'rm-root',
    pattern: new RegExp(
      String.raw`${START}rm\s+(?:${SAME_COMMAND}\s)?(?:/+\.?/*\*?|~/*\*?|\$HOME/*\*?)${WORD_END}`,
    ),
    reason: 'it deletes the root or home directory',
    instead: 'delete specific paths inside the worktree, e.g. `rm -rf build/`',
  },
  {
    id: 'rm-no-preserve-root',
    pattern: /--no-preserve-root/,
    reason: '--no-preserve-root exists only to delete the whole filesystem',
    instead: 'delete specific paths inside the worktree',
  },
  {
    id: 'rm-system-directory',
    pattern: new RegExp(
      String.raw`${START}rm\s+(?:${SAME_COMMAND}\s)?/(?:bin|boot|dev|etc|home|lib|lib32|lib64|opt|proc|root|sbin|srv|sys|usr|var)/?\*?${WORD_END}`,
    ),
    reason: 'it deletes a system directory',
    instead: 'delete specific paths inside the worktree',
  },
  {
    id: 'make-filesystem',
    pattern: new RegExp(String.raw`${START}(?:mkfs(?:\.\w+)?|mke2fs|mkswap|wipefs)\b`),
    reason: 'it formats a disk',
    instead: 'work with files inside the worktree; disks are not the task',
  },
  {
    id: 'dd-to-device',
    pattern: new RegExp(
      String.raw`${START}dd\b${SAME_COMMAND}\bof=/dev/(?!null\b|zero\b|stdout\b|stderr\b|fd/)`,
    ),
    reason: 'it writes raw bytes to a device',
    instead: 'write to a file inside the worktree, e.g. `dd ... of=./image.bin`',
  },
  {
    id: 'fork-bomb',
    pattern: /([A-Za-z_:][\w:.-]*)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&/,
    reason: 'it is a fork bomb',
    instead: 'run a bounded number of processes',
  },
  {
    id: 'git-force-push',
    pattern: new RegExp(
      String.raw`${START}git\b${SAME_COMMAND}\spush\b${SAME_COMMAND}(?:\s--force(?:-with-lease|-if-includes)?\b|\s-[A-Za-z]*f[A-Za-z]*\b|\s\+\S)`,
    ),
    reason: 'force pushes rewrite shared history',
    instead: 'commit on your task branch and let the harness merge it; never push yourself',
  },
  {
    id: 'shutdown',
    pattern: new RegExp(
      String.raw`${START}(?:shutdown|reboot|poweroff|halt|(?:tel)?init\s+[06]|systemctl\s+(?:reboot|poweroff|halt|kexec))\b`,
    ),
    reason: 'it stops the machine',
    instead: 'finish the task with task_complete',
  },
  {
    id: 'kill-all-processes',
    pattern: new RegExp(String.raw`${START}(?:kill\s+(?:-\S+\s+)*-1\b|killall5\b)`),
    reason: 'it signals every process on the machine, Loki included',
    instead: 'kill the specific process id you started',
  },
  {
    id: 'redirect-outside-workspace',
    pattern: new RegExp(
      String.raw`(?:^|[^<>&\d])\d*(?:>>?|>\||&>>?)\s*["']?(?<path>(?:/|~|\$HOME|\.\./)[^\s;&|)<>'"]*)`,
    ),
    reason: 'it writes to a file outside the worktree',
    instead: 'write inside the worktree (relative paths) or under /tmp',
  },
  {
    id: 'tee-outside-workspace',
    pattern: new RegExp(
      String.raw`${START}tee\s+(?:-\S+\s+)*["']?(?<path>(?:/|~|\$HOME|\.\./)[^\s;&|)<>'"]*)`,
    ),
    reason: 'it writes to a file outside the worktree',
    instead: 'write inside the worktree (relative paths) or under /tmp',
  },
];
