import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

test('npm test runs every test file and npm start starts the server', () => {
  assert.equal(packageJson.scripts.test, 'node --test test/*.test.js');
  assert.equal(packageJson.scripts.start, 'node src/server.js');
});

test('REQ-007 the service has no dependencies, so it installs and runs offline', () => {
  assert.equal(packageJson.dependencies, undefined);
  assert.equal(packageJson.devDependencies, undefined);
});

test('sources are ES modules for Node 20 or later', () => {
  assert.equal(packageJson.type, 'module');
  assert.equal(packageJson.engines.node, '>=20');
});
