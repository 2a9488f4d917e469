#!/usr/bin/env node
// Entry point of the `loki` command. Kept tiny and free of modern syntax so that an old Node
// prints a clear message instead of a stack trace.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `loki: Node.js ${process.versions.node} is too old; Loki Mode needs Node.js 22.13 or newer (24 recommended): install it, or run ./loki from a clone, which fetches Node 24 for you\n`,
  );
  process.exit(2);
}
// `loki --version` answers without loading the CLI: scripts call it often and expect it instantly.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${packageJson.version}\n`);
  process.exit(0);
}
// Caches compiled bytecode between runs (Node >= 22.1): most of a short command's time is loading code.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');
await main();
