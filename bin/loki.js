#!/usr/bin/env node
// Entry point of the `loki` command. Kept tiny and free of modern syntax so that an old Node
// prints a clear message instead of a stack trace.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `loki: Node.js ${process.versions.node} is too old; Loki Mode needs Node.js 22.13 or newer (24 recommended).\n` +
      'Install it from https://nodejs.org or run ./loki from a clone, which fetches Node 24 for you.\n',
  );
  process.exit(2);
}
const { main } = await import('../dist/cli/main.js');
await main();
