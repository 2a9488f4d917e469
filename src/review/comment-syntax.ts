import { basename, extname } from 'node:path';

/** How a one-line comment is written in a file: its opening and (for block-only syntaxes) closing. */
export interface CommentSyntax {
  open: string;
  close: string;
}

const LINE = (open: string): CommentSyntax => ({ open, close: '' });

/** Extensions by comment style, written as words (one line each, not one name a line). */
const EXTENSIONS_BY_SYNTAX: readonly [CommentSyntax, string][] = [
  [
    LINE('//'),
    'ts tsx mts cts js jsx mjs cjs java c h cc cpp cxx hpp cs go rs swift kt kts scala dart php groovy proto scss less zig sol jsonc',
  ],
  [
    LINE('#'),
    'py rb sh bash zsh fish yaml yml toml pl pm r ex exs tf conf cfg nim cr jl ps1 mk cmake gitignore dockerignore env',
  ],
  [LINE('--'), 'sql lua hs elm ada'],
  [LINE(';'), 'ini clj cljs lisp el scm asm'],
  [LINE('%'), 'tex erl'],
  [{ open: '/*', close: '*/' }, 'css'],
  [{ open: '<!--', close: '-->' }, 'html htm xml svg md markdown vue svelte'],
];

const BY_EXTENSION: ReadonlyMap<string, CommentSyntax> = new Map(
  EXTENSIONS_BY_SYNTAX.flatMap(([syntax, words]) =>
    words.split(' ').map((extension): [string, CommentSyntax] => [extension, syntax]),
  ),
);

const BY_NAME: Readonly<Record<string, CommentSyntax>> = {
  Dockerfile: LINE('#'),
  Makefile: LINE('#'),
  GNUmakefile: LINE('#'),
  Gemfile: LINE('#'),
  Rakefile: LINE('#'),
  Procfile: LINE('#'),
};

/**
 * The comment syntax of a file by its name, or null where the format has none Loki knows (JSON,
 * plain text, lock files): such a finding stays in the events and the report, not in the file.
 */
export function commentSyntaxFor(path: string): CommentSyntax | null {
  const name = basename(path);
  const byName = BY_NAME[name];
  if (byName !== undefined) return byName;
  const extension = (extname(name) || (name.startsWith('.') ? name : '')).replace(/^\./, '').toLowerCase();
  return BY_EXTENSION.get(extension) ?? null;
}

/** One comment line; the text is kept to one line and cannot close a block comment early. */
export function formatComment(syntax: CommentSyntax, text: string): string {
  let body = text.replace(/\s+/g, ' ').trim();
  if (syntax.close !== '') body = body.split(syntax.close).join(' ');
  return syntax.close === '' ? `${syntax.open} ${body}` : `${syntax.open} ${body} ${syntax.close}`;
}
