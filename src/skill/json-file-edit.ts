import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { usageError } from '../errors/index.ts';

/** One JSON file as an install found it and left it: what uninstall needs to put it back. */
export const jsonFileEditSchema = z.strictObject({
  file: z.string(),
  /** The file's content before the install; null: the install created it. */
  before: z.string().nullable(),
  after: z.string(),
});
export type JsonFileEdit = z.output<typeof jsonFileEditSchema>;

export type JsonObject = Record<string, unknown>;

/**
 * Changes a JSON file through `change` (which edits the parsed object and says whether it changed
 * anything) and returns the edit, or null when there was nothing to change. A file that is not a
 * JSON object is refused: it is the user's, and rewriting it would lose what it holds.
 */
export function editJsonFile(file: string, change: (json: JsonObject) => boolean): JsonFileEdit | null {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  const json = before === null ? {} : parseJsonObject(file, before);
  if (!change(json)) return null;
  const after = `${JSON.stringify(json, null, 2)}\n`;
  writeFileSync(file, after);
  return { file, before, after };
}

/**
 * Undoes an edit. A file nobody touched since is put back exactly as it was (or removed when the
 * install created it); one changed since keeps those changes and loses only what `remove` takes
 * out, and is removed only when nothing else is left in it.
 */
export function undoJsonFileEdit(edit: JsonFileEdit, remove: (json: JsonObject) => void): void {
  if (!existsSync(edit.file)) return;
  const now = readFileSync(edit.file, 'utf8');
  if (now === edit.after) {
    if (edit.before === null) rmSync(edit.file);
    else writeFileSync(edit.file, edit.before);
    return;
  }
  const json = parseJsonObject(edit.file, now);
  remove(json);
  if (edit.before === null && Object.keys(json).length === 0) rmSync(edit.file);
  else writeFileSync(edit.file, `${JSON.stringify(json, null, 2)}\n`);
}

export function parseJsonObject(file: string, text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(
      'SKILL_CONFIG_UNREADABLE',
      `${file} is not valid JSON (${(error as Error).message}); fix it, then run the command again (nothing was changed)`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(
      'SKILL_CONFIG_UNREADABLE',
      `${file} is not a JSON object; fix it, then run the command again (nothing was changed)`,
    );
  }
  return value as JsonObject;
}

/** `json[key]` as an object, created when absent; a non-object there is the user's and refused. */
export function objectAt(json: JsonObject, key: string, file: string): JsonObject {
  const value = json[key];
  if (value === undefined) {
    const created: JsonObject = {};
    json[key] = created;
    return created;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(
      'SKILL_CONFIG_UNREADABLE',
      `"${key}" in ${file} is not an object; fix it, then run the command again`,
    );
  }
  return value as JsonObject;
}
