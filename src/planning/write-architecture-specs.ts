import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../workspace/index.ts';
import { type ArchitectureDocument, phaseOfTask } from './architecture-schema.ts';

export const ARCHITECTURE_JSON_FILE = 'architecture.json';
export const ARCHITECTURE_MARKDOWN_FILE = 'architecture.md';
export const OPENAPI_FILE = 'openapi.yaml';

/** Saves the Architecture phase's output: JSON (the plan later phases and resume read), Markdown, OpenAPI. */
export function writeArchitectureSpecs(specsDirectory: string, architecture: ArchitectureDocument): string[] {
  mkdirSync(specsDirectory, { recursive: true });
  const written = [
    join(specsDirectory, ARCHITECTURE_JSON_FILE),
    join(specsDirectory, ARCHITECTURE_MARKDOWN_FILE),
  ];
  writeFileAtomic(written[0] as string, `${JSON.stringify(architecture, null, 2)}\n`);
  writeFileAtomic(written[1] as string, formatArchitectureMarkdown(architecture));
  if (architecture.openapi !== null) {
    const openapiPath = join(specsDirectory, OPENAPI_FILE);
    writeFileAtomic(
      openapiPath,
      architecture.openapi.endsWith('\n') ? architecture.openapi : `${architecture.openapi}\n`,
    );
    written.push(openapiPath);
  }
  return written;
}

export function formatArchitectureMarkdown(architecture: ArchitectureDocument): string {
  const lines = ['# Architecture', '', architecture.notes.trim(), '', '## Tech stack', ''];
  for (const choice of architecture.techStack)
    lines.push(`- **${choice.area}**: ${choice.choice} (${choice.reason})`);
  lines.push('', '## Project gates', '');
  for (const command of architecture.verifyCommands) lines.push(`- \`${command}\``);
  lines.push('', '## Deployment', '');
  lines.push(
    architecture.deployment === null
      ? 'Not a service: no boot check.'
      : `Start: \`${architecture.deployment.startCommand}\`; health: \`${architecture.deployment.healthPath}\``,
  );
  lines.push(
    '',
    '## Tasks',
    '',
    '| id | phase | agent | title | depends on | requirements |',
    '|---|---|---|---|---|---|',
  );
  for (const task of architecture.tasks) {
    const cells = [
      task.id,
      phaseOfTask(task),
      task.agentType,
      task.title,
      task.dependencies.join(', ') || '—',
      task.requirementIds.join(', ') || '—',
    ].map((cell) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' '));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
