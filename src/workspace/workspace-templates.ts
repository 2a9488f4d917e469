/** Files `loki init` writes when they do not exist yet. Never rewritten over a user's edits. */

export const CONTINUITY_SECTIONS = [
  'Active Goal',
  'Current Task',
  'Just Completed',
  'Next Actions',
  'Active Blockers',
  'Key Decisions',
  'Mistakes & Learnings',
  'Working Context',
  'Files Being Modified',
] as const;

export function continuityTemplate(): string {
  const sections = CONTINUITY_SECTIONS.map((section) => `## ${section}\n\n_(none yet)_\n`).join('\n');
  return `# CONTINUITY\n\nWorking memory of this Loki Mode workspace. Agents read it before every task; the harness\nupdates its sections after each one. "Mistakes & Learnings" is kept across tasks so a lesson is\nlearned once.\n\n${sections}`;
}

export const CIRCUIT_BREAKERS_TEMPLATE = `# Circuit breakers: stop calling a provider or an agent type that keeps failing, wait, then try
# again carefully. closed -> open after failureThreshold consecutive failures -> half-open after
# cooldownSeconds -> closed again after halfOpenRequests successful trial calls.
defaults:
  failureThreshold: 5
  cooldownSeconds: 300
  halfOpenRequests: 3

# Per agent type (or provider) overrides; any key of "defaults" may be set.
overrides:
  ops-security:
    failureThreshold: 3
`;

export const ALERTING_TEMPLATE = `# Alerting: where Loki Mode sends notices (run finished, budget reached, task dead-lettered,
# circuit breaker opened). Everything is off until you uncomment it. \${NAME} is replaced by the
# environment variable NAME, so secrets stay out of this file.
#
# slack:
#   webhookUrl: \${LOKI_SLACK_WEBHOOK_URL}
#   minSeverity: high          # critical | high | medium | low | info
#
# pagerduty:
#   routingKey: \${LOKI_PAGERDUTY_ROUTING_KEY}
#   minSeverity: critical
#
# webhooks:
#   - url: https://example.com/loki-hook
#     minSeverity: medium
`;

/** Runtime files never belong in git: the database, logs, locks and the projections. */
export const LOKI_GITIGNORE = `# Written by loki init: runtime state that must not be committed.
loki.db
loki.db-*
artifacts/backups/
logs/
*.lock
*.tmp
queue/
state/
STATUS.txt
dashboard/
worktrees/
releases/
deploy/
`;
