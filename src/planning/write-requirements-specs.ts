import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../workspace/index.ts';
import type { RequirementsDocument } from './requirements-schema.ts';

export const REQUIREMENTS_JSON_FILE = 'requirements.json';
export const REQUIREMENTS_MARKDOWN_FILE = 'requirements.md';

/**
 * Saves Discovery's output in the specs directory: JSON for the later phases, Markdown for people.
 * Each file is replaced atomically, so a reader never sees half a file.
 */
export function writeRequirementsSpecs(
  specsDirectory: string,
  requirements: RequirementsDocument,
): { jsonPath: string; markdownPath: string } {
  mkdirSync(specsDirectory, { recursive: true });
  const jsonPath = join(specsDirectory, REQUIREMENTS_JSON_FILE);
  const markdownPath = join(specsDirectory, REQUIREMENTS_MARKDOWN_FILE);
  writeFileAtomic(jsonPath, `${JSON.stringify(requirements, null, 2)}\n`);
  writeFileAtomic(markdownPath, formatRequirementsMarkdown(requirements));
  return { jsonPath, markdownPath };
}

export function formatRequirementsMarkdown(document: RequirementsDocument): string {
  const lines = ['# Requirements', ''];
  for (const requirement of document.requirements) {
    lines.push(`## ${requirement.id}: ${requirement.title}`, '');
    lines.push(`- Kind: ${requirement.kind}`, `- Priority: ${requirement.priority}`, '');
    lines.push(requirement.description, '', 'Acceptance criteria:', '');
    for (const criterion of requirement.acceptanceCriteria) lines.push(`- [ ] ${criterion}`);
    lines.push('');
  }
  lines.push('## Assumptions', '');
  if (document.assumptions.length === 0) lines.push('None.');
  for (const assumption of document.assumptions) lines.push(`- ${assumption}`);
  lines.push('');
  return lines.join('\n');
}
