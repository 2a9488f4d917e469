import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/*
 * The page is plain ES modules served as they are: the browser resolves `preact`, `preact/hooks`
 * and `htm` through an import map to copies served by this server. No bundler, no CDN: the
 * dashboard works offline and serves exactly the files of the installed packages.
 */

/** src/dashboard/web, found the same way from src/ (tests) and dist/ (the built CLI). */
const WEB_DIRECTORY = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'src',
  'dashboard',
  'web',
);

/** The browser builds of the packages, found next to what Node resolves for them. */
function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  return {
    'preact.mjs': require.resolve('preact'),
    'hooks.mjs': require.resolve('preact/hooks'),
    'htm.mjs': join(dirname(require.resolve('htm')), 'htm.mjs'),
  };
}

const IMPORT_MAP = JSON.stringify({
  imports: { preact: '/vendor/preact.mjs', 'preact/hooks': '/vendor/hooks.mjs', htm: '/vendor/htm.mjs' },
});

/** The only inline script is the import map; the policy allows it by its hash and nothing else inline. */
const IMPORT_MAP_HASH = createHash('sha256').update(IMPORT_MAP).digest('base64');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${IMPORT_MAP_HASH}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The page. Its modules import each other a few levels deep: preloading them all (and the
 * snapshot the first render needs) lets the browser fetch everything at once instead of level by
 * level. The snapshot is fetched like the page's own fetch() (same origin, cookie sent), so the
 * browser hands the preloaded answer to it.
 */
function page(moduleNames: readonly string[]): string {
  const preloads = [
    ...moduleNames.map((name) => `/assets/${name}`),
    ...Object.keys(vendorFiles()).map((name) => `/vendor/${name}`),
  ]
    .map((href) => `<link rel="modulepreload" href="${href}">`)
    .join('\n');
  return PAGE.replace(
    '<!-- preloads -->',
    `${preloads}\n<link rel="preload" href="/api/snapshot" as="fetch" crossorigin>`,
  );
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Loki Mode dashboard</title>
<link rel="stylesheet" href="/assets/style.css">
<script type="importmap">${IMPORT_MAP}</script>
<!-- preloads -->
<script type="module" src="/assets/main.js"></script>
</head>
<body>
<div id="app"><p>Loading the dashboard…</p></div>
<noscript>The dashboard needs JavaScript; loki status shows the same figures in a terminal.</noscript>
</body>
</html>
`;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Serves the page, the web folder's files and the vendored modules; any other path is 404. */
export function addWebRoutes(app: Hono): void {
  // Read once: what is served is a fixed list of files, never a path from the request.
  const assets = new Map<string, { body: string; type: string }>();
  for (const name of readdirSync(WEB_DIRECTORY)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type !== undefined) assets.set(name, { body: readFileSync(join(WEB_DIRECTORY, name), 'utf8'), type });
  }
  const vendor = new Map(
    Object.entries(vendorFiles()).map(([name, path]) => [name, readFileSync(path, 'utf8')] as const),
  );
  const html = page([...assets.keys()].filter((name) => name.endsWith('.js')).sort());
  app.get('/', (c) => c.html(html));
  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) return c.notFound();
    return c.body(asset.body, 200, { 'content-type': asset.type });
  });
  app.get('/vendor/:name', (c) => {
    const body = vendor.get(c.req.param('name'));
    if (body === undefined) return c.notFound();
    return c.body(body, 200, { 'content-type': CONTENT_TYPES['.mjs'] ?? 'text/javascript' });
  });
}
