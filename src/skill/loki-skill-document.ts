/** The skill's name: its directory under `.claude/skills/` and the `name` of its front matter. */
export const LOKI_SKILL_NAME = 'loki-mode';

/**
 * The read-only tools the skill may use without asking while it is active; starting, steering and
 * changing the queue still ask the user.
 */
const ALLOWED_TOOLS = ['status', 'list_tasks', 'show_task', 'read_report'].map(
  (tool) => `mcp__loki__${tool}`,
);

/**
 * SKILL.md of the `loki-mode` skill, the same for `loki skill install` and the plugin in the
 * repository (a test keeps skills/loki-mode/SKILL.md equal to it). The description is what Claude
 * Code matches requests against, so it names the phrases people use.
 */
export function lokiSkillMarkdown(): string {
  return `---
name: ${LOKI_SKILL_NAME}
description: Runs Loki Mode, which turns a PRD (Product Requirements Document) into a built, tested, reviewed product with a team of agents, through the loki MCP tools. Use when the user says "Loki Mode", "Loki Mode with PRD at <path>", asks to build a product from a PRD with Loki, or asks how a Loki run is going (status, tasks, report, pause, continue, stop).
allowed-tools: ${ALLOWED_TOOLS.join(', ')}
---

# Loki Mode

Loki Mode builds a product from a PRD: discovery, architecture, a task DAG run by parallel agents
in git worktrees, merges, verification and a report. It runs in the background in the project's
directory; you start it, follow it and tell the user how it goes, through the \`loki\` MCP tools.

## Starting a run ("Loki Mode with PRD at ./my-prd.md")

1. Take the PRD path from the request (relative to the project). If none is given, ask for it; do
   not write a PRD yourself unless the user asks you to.
2. Call \`mcp__loki__start_run\` with \`prd\` set to that path. Pass \`provider\`, \`parallel\` or
   \`budgetUsd\` only when the user asked for them.
3. Tell the user the run id it returns and that the run goes on in the background (its output is
   in the log file the tool names).

## Following it

- Call \`mcp__loki__status\` to see the run's status, phase, queue counts and agents at work, and
  say where it stands in a sentence. Check again when the user asks, or every little while when
  they asked you to watch it.
- When \`run.status\` is \`completed\`, \`failed\` or \`stopped\`, call \`mcp__loki__read_report\` and
  summarise the outcome: what was built, what passed and failed, what it cost, what to do next.
- \`mcp__loki__list_tasks\` and \`mcp__loki__show_task\` explain a failed or stuck task.

## Steering it (only when the user asks)

- \`mcp__loki__pause_run\`, \`mcp__loki__continue_run\`, \`mcp__loki__stop_run\`; a stopped or
  interrupted run goes on with \`mcp__loki__resume_run\`.
- \`mcp__loki__add_task\`, \`mcp__loki__retry_task\`, \`mcp__loki__cancel_task\`,
  \`mcp__loki__prioritize_task\` change the queue of the live run.

A tool error says what went wrong and what to do; tell the user in plain words. If the
\`mcp__loki__*\` tools are missing, Loki Mode is not connected: the user runs
\`loki skill install --project\` (or \`--user\`) and restarts Claude Code.
`;
}
