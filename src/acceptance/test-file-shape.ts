/**
 * What tamper detection needs to know of a test file: its test cases (name, body, assertions) and
 * the markers that skip or focus tests. Hand-written on purpose: the files may be JavaScript,
 * TypeScript, Python or Go, and no one parser reads them all; a full parser per language would
 * also be more than this needs, since any change to a sealed file fails the task anyway and the
 * shape only says, in words, what the change was.
 */

export interface TestCase {
  /** The test's name as written (`it('REQ-001 adds a todo', …)`, `def test_req_001_adds`, `func TestAdds`). */
  name: string;
  body: string;
  assertions: number;
  /** 1-based line of the test's declaration. */
  line: number;
}

export interface MarkerHit {
  marker: string;
  kind: 'skipped' | 'focused';
  line: number;
}

/** Test files by the common runners' conventions: `*.test.*`, `*.spec.*`, `test_*.py`, `*_test.go`, test folders. */
export function isTestFilePath(path: string): boolean {
  const name = path.split('/').pop() ?? path;
  if (/\.(test|spec)\.[cm]?[jt]sx?$/.test(name)) return true;
  if (/^test_.*\.py$/.test(name) || /_test\.py$/.test(name)) return true;
  if (/_test\.go$/.test(name)) return true;
  return /(^|\/)(__tests__|tests?)\/.+\.([cm]?[jt]sx?|py)$/.test(path);
}

const JS_TEST =
  /\b(it|test)(?:\.(?:skip|only|todo|concurrent|each\([^)]*\)))?\s*\(\s*(['"`])((?:\\.|(?!\2).)*)\2/g;
const PYTHON_TEST = /^([ \t]*)(?:async\s+)?def\s+(test\w*)\s*\(/gm;
const GO_TEST = /^func\s+(Test\w+)\s*\(/gm;

const ASSERTION =
  /\bexpect\s*\(|\bassert\w*\b|\.should\b|\bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(|\b(?:require|assert)\.\w+\s*\(|\bpytest\.raises\b/g;

function testOption(names: string): RegExp {
  return new RegExp(`\\b(?:it|test|describe|suite)\\s*\\([^\\n]*?,\\s*\\{[^}\\n]*\\b(?:${names})\\s*:`, 'g');
}

const MARKERS: readonly { marker: string; kind: MarkerHit['kind']; pattern: RegExp }[] = [
  { marker: '.skip', kind: 'skipped', pattern: /\b(?:it|test|describe|suite)\.skip(?:If)?\b/g },
  { marker: '.todo', kind: 'skipped', pattern: /\b(?:it|test|describe)\.todo\b/g },
  { marker: 'xit / xtest / xdescribe', kind: 'skipped', pattern: /\bx(?:it|test|describe)\s*\(/g },
  // node:test's options object, e.g. test('…', { skip: true }, …): only as a test's options, since
  // `{ todo: … }` is an ordinary object in a todo app's tests.
  { marker: '{ skip } / { todo } option', kind: 'skipped', pattern: testOption('skip|todo') },
  { marker: '@pytest.mark.skip', kind: 'skipped', pattern: /@pytest\.mark\.(?:skip|skipif|xfail)\b/g },
  { marker: 'pytest.skip(', kind: 'skipped', pattern: /\bpytest\.skip\s*\(/g },
  { marker: '@unittest.skip', kind: 'skipped', pattern: /@unittest\.skip\w*/g },
  { marker: 't.Skip(', kind: 'skipped', pattern: /\bt\.Skip(?:Now|f)?\s*\(/g },
  { marker: '.only', kind: 'focused', pattern: /\b(?:it|test|describe|suite)\.only\b/g },
  { marker: 'fit / fdescribe', kind: 'focused', pattern: /\bf(?:it|describe)\s*\(/g },
  { marker: '{ only } option', kind: 'focused', pattern: testOption('only') },
];

export function findTestCases(path: string, content: string): TestCase[] {
  if (path.endsWith('.py')) return findPythonTests(content);
  if (path.endsWith('.go')) return findBracedTests(content, GO_TEST, 1);
  return findBracedTests(content, JS_TEST, 3);
}

export function findMarkers(content: string): MarkerHit[] {
  const code = withoutComments(content);
  const hits: MarkerHit[] = [];
  for (const { marker, kind, pattern } of MARKERS) {
    for (const match of code.matchAll(pattern)) hits.push({ marker, kind, line: lineOf(code, match.index) });
  }
  return hits.sort((first, second) => first.line - second.line);
}

export function countAssertions(body: string): number {
  return [...withoutComments(body).matchAll(ASSERTION)].length;
}

/** Whether a body holds nothing but braces, whitespace, comments and `pass`. */
export function isEmptyBody(body: string): boolean {
  return (
    withoutComments(body)
      .replace(/\bpass\b/g, '')
      .replace(/[\s{}();]/g, '') === ''
  );
}

function findBracedTests(content: string, pattern: RegExp, nameGroup: number): TestCase[] {
  const tests: TestCase[] = [];
  for (const match of content.matchAll(pattern)) {
    const start = match.index + match[0].length;
    const open = content.indexOf('{', start);
    const body = open === -1 ? '' : content.slice(open, closingBrace(content, open) + 1);
    const bodyWithoutBraces = body.slice(1, -1);
    tests.push({
      name: match[nameGroup] ?? '',
      body: bodyWithoutBraces,
      assertions: countAssertions(bodyWithoutBraces),
      line: lineOf(content, match.index),
    });
  }
  return tests;
}

function findPythonTests(content: string): TestCase[] {
  const lines = content.split('\n');
  const tests: TestCase[] = [];
  for (const match of content.matchAll(PYTHON_TEST)) {
    const indent = (match[1] ?? '').length;
    const line = lineOf(content, match.index);
    const bodyLines: string[] = [];
    for (const next of lines.slice(line)) {
      const isBlank = next.trim() === '';
      if (!isBlank && next.length - next.trimStart().length <= indent) break;
      bodyLines.push(next);
    }
    const body = bodyLines.join('\n');
    tests.push({ name: match[2] ?? '', body, assertions: countAssertions(body), line });
  }
  return tests;
}

/** The index of the brace closing the one at `open`, skipping strings and comments; the end when unbalanced. */
function closingBrace(content: string, open: number): number {
  let depth = 0;
  let index = open;
  while (index < content.length) {
    const character = content[index];
    if (character === '"' || character === "'" || character === '`') {
      index = endOfString(content, index);
    } else if (content.startsWith('//', index)) {
      index = content.indexOf('\n', index);
      if (index === -1) return content.length - 1;
    } else if (content.startsWith('/*', index)) {
      index = content.indexOf('*/', index);
      if (index === -1) return content.length - 1;
      index += 1;
    } else if (character === '{') {
      depth += 1;
    } else if (character === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
    index += 1;
  }
  return content.length - 1;
}

function endOfString(content: string, start: number): number {
  const quote = content[start];
  let index = start + 1;
  while (index < content.length && content[index] !== quote) index += content[index] === '\\' ? 2 : 1;
  return index;
}

/** Comments blanked out (lines kept, so line numbers hold): a commented-out assertion is no assertion. */
function withoutComments(code: string): string {
  return code
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"])\/\/.*$/gm, (_whole, before: string) => before)
    .replace(/^\s*#.*$/gm, '');
}

function lineOf(content: string, index: number): number {
  let line = 1;
  for (let position = 0; position < index; position += 1) if (content[position] === '\n') line += 1;
  return line;
}
