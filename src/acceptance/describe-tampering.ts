import type { TamperKind } from '../events/index.ts';
import { findMarkers, findTestCases, isEmptyBody, type TestCase } from './test-file-shape.ts';

export interface TamperChange {
  path: string;
  kind: TamperKind;
  detail: string;
}

/**
 * What changed in a sealed test file, in words, by comparing the sealed content with what is there
 * now (null: the file is gone). Any difference is tampering; the kinds only say which: the most
 * telling changes are named first, and a change none of them explains is `modified`, with its first
 * differing line. Empty when the content is unchanged.
 */
export function describeTampering(path: string, sealed: string, current: string | null): TamperChange[] {
  if (current === null) return [{ path, kind: 'deleted', detail: 'the sealed test file was deleted' }];
  if (current === sealed) return [];
  const changes = [...newMarkers(path, sealed, current), ...weakenedTests(path, sealed, current)];
  if (changes.length > 0) return changes;
  return [{ path, kind: 'modified', detail: firstDifference(sealed, current) }];
}

/** Skip and focus markers the sealed file did not have (counted per marker, so moving one is not hiding one). */
function newMarkers(path: string, sealed: string, current: string): TamperChange[] {
  const before = countBy(findMarkers(sealed).map((hit) => hit.marker));
  const changes: TamperChange[] = [];
  const seen = new Map<string, number>();
  for (const hit of findMarkers(current)) {
    const count = (seen.get(hit.marker) ?? 0) + 1;
    seen.set(hit.marker, count);
    if (count <= (before.get(hit.marker) ?? 0)) continue;
    const verb = hit.kind === 'focused' ? 'focuses tests (the others no longer run)' : 'skips a test';
    changes.push({ path, kind: hit.kind, detail: `line ${hit.line} adds ${hit.marker}, which ${verb}` });
  }
  return changes;
}

/** Sealed tests that are gone, emptied, or hold fewer assertions than when sealed. */
function weakenedTests(path: string, sealed: string, current: string): TamperChange[] {
  const now = byName(findTestCases(path, current));
  const changes: TamperChange[] = [];
  for (const test of findTestCases(path, sealed)) {
    const candidates = now.get(test.name) ?? [];
    const after = candidates.shift();
    if (after === undefined) {
      changes.push({ path, kind: 'test_removed', detail: `test "${test.name}" was removed` });
    } else if (isEmptyBody(after.body) && !isEmptyBody(test.body)) {
      changes.push({
        path,
        kind: 'emptied',
        detail: `test "${test.name}" (line ${after.line}) has an empty body now; it held ${describeCount(test.assertions)}`,
      });
    } else if (after.assertions < test.assertions) {
      changes.push({
        path,
        kind: 'assertion_removed',
        detail: `test "${test.name}" (line ${after.line}) lost ${describeCount(test.assertions - after.assertions)} (${test.assertions} sealed, ${after.assertions} now)`,
      });
    }
  }
  return changes;
}

function byName(tests: readonly TestCase[]): Map<string, TestCase[]> {
  const map = new Map<string, TestCase[]>();
  for (const test of tests) map.set(test.name, [...(map.get(test.name) ?? []), test]);
  return map;
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function describeCount(assertions: number): string {
  return assertions === 1 ? '1 assertion' : `${assertions} assertions`;
}

function firstDifference(sealed: string, current: string): string {
  const before = sealed.split('\n');
  const after = current.split('\n');
  const index = before.findIndex((line, position) => line !== after[position]);
  const line = index === -1 ? before.length : index;
  const was = JSON.stringify((before[line] ?? '').trim().slice(0, 120));
  const is = JSON.stringify((after[line] ?? '').trim().slice(0, 120));
  return `line ${line + 1} changed from ${was} to ${is}`;
}
