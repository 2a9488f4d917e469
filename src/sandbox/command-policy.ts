import { isAbsolute, relative, resolve, sep } from 'node:path';
import { LokiError, usageError } from '../errors/index.ts';
import { DEFAULT_COMMAND_DENY_RULES } from './default-command-deny-rules.ts';
import { SandboxErrorCode } from './sandbox-errors.ts';

/**
 * One rule of the deny list. The pattern is matched against the command as written and against a
 * copy with quotes and backslashes removed (`rm -rf "/"`). A pattern with a named group `path` only
 * denies when that path lies outside the workspace and the scratch places (/tmp, /dev/null...).
 */
export interface CommandDenyRule {
  id: string;
  /** A string is compiled with `new RegExp` (for rules from YAML configuration). */
  pattern: RegExp | string;
  /** Why it is refused, completing "refused because ...". */
  reason: string;
  /** What the agent should do instead. */
  instead: string;
}

export interface CommandPolicy {
  readonly rules: readonly CompiledDenyRule[];
}

interface CompiledDenyRule extends CommandDenyRule {
  readonly compiled: RegExp;
}

export interface CreateCommandPolicyOptions {
  /** Replaces the default rules. */
  rules?: readonly CommandDenyRule[];
  /** Added to the (default or given) rules. */
  extraRules?: readonly CommandDenyRule[];
  /** Rule ids to switch off, e.g. `git-force-push` for a workflow that owns its branches. */
  disabledRuleIds?: readonly string[];
}

export type CommandDecision =
  { isAllowed: true } | { isAllowed: false; rule: CommandDenyRule; matchedText: string };

export interface CommandLocation {
  /** The worktree: writes inside it are fine. */
  workspace: string;
  /** Where relative paths in the command start (defaults to the workspace). */
  cwd?: string;
}

/** Places outside the worktree that commands may write to without harm. */
const SCRATCH_PATHS: readonly RegExp[] = [
  /^\/tmp(?:\/|$)/,
  /^\/dev\/(?:null|stdout|stderr|tty)$/,
  /^\/dev\/fd\/\d+$/,
  /^\/proc\/self\/fd\/\d+$/,
];

export function createCommandPolicy(options: CreateCommandPolicyOptions = {}): CommandPolicy {
  const disabled = new Set(options.disabledRuleIds ?? []);
  const rules = [...(options.rules ?? DEFAULT_COMMAND_DENY_RULES), ...(options.extraRules ?? [])];
  return { rules: rules.filter((rule) => !disabled.has(rule.id)).map(compileRule) };
}

export function evaluateCommand(
  policy: CommandPolicy,
  command: string,
  location: CommandLocation,
): CommandDecision {
  const variants = [
    command,
    command
      .replace(/\\\n/g, ' ')
      .replace(/\$\{(\w+)\}/g, '$$$1')
      .replace(/["'\\]/g, ''),
  ];
  for (const rule of policy.rules) {
    for (const variant of variants) {
      for (const match of variant.matchAll(rule.compiled)) {
        const path = match.groups?.path;
        if (path !== undefined && isPermittedWritePath(path, location)) continue;
        return { isAllowed: false, rule, matchedText: match[0].trim() };
      }
    }
  }
  return { isAllowed: true };
}

/** Throws SANDBOX_COMMAND_DENIED naming the rule and what to do instead. */
export function assertCommandAllowed(
  policy: CommandPolicy,
  command: string,
  location: CommandLocation,
): void {
  const decision = evaluateCommand(policy, command, location);
  if (decision.isAllowed) return;
  const { rule, matchedText } = decision;
  throw new LokiError(
    `Command refused by sandbox rule "${rule.id}": ${rule.reason} (matched \`${matchedText}\`). Instead: ${rule.instead}.`,
    {
      code: SandboxErrorCode.commandDenied,
      category: 'user',
      context: { ruleId: rule.id, command, matchedText },
    },
  );
}

function isPermittedWritePath(path: string, location: CommandLocation): boolean {
  if (path.startsWith('~') || path.startsWith('$HOME')) return false;
  const absolutePath = resolve(location.cwd ?? location.workspace, path);
  if (SCRATCH_PATHS.some((pattern) => pattern.test(absolutePath))) return true;
  const relation = relative(location.workspace, absolutePath);
  return relation === '' || (relation !== '..' && !relation.startsWith(`..${sep}`) && !isAbsolute(relation));
}

function compileRule(rule: CommandDenyRule): CompiledDenyRule {
  const source = typeof rule.pattern === 'string' ? rule.pattern : rule.pattern.source;
  const flags = typeof rule.pattern === 'string' ? '' : rule.pattern.flags;
  try {
    // Global, so that every match is checked: a harmless `> /tmp/a` must not hide a later `> /etc/b`.
    return { ...rule, compiled: new RegExp(source, flags.includes('g') ? flags : `${flags}g`) };
  } catch (error) {
    throw usageError(
      SandboxErrorCode.policyInvalid,
      `Command deny rule "${rule.id}" has an invalid pattern: ${error instanceof Error ? error.message : String(error)}. Fix the regular expression in the sandbox configuration.`,
      { ruleId: rule.id },
    );
  }
}
