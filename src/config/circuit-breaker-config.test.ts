import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CIRCUIT_BREAKERS_TEMPLATE } from '../workspace/workspace-templates.ts';
import {
  breakerSettingsFor,
  circuitBreakerConfigPath,
  loadCircuitBreakerConfig,
} from './circuit-breaker-config.ts';

describe('circuit-breakers.yaml', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

  function workspaceWith(content: string | null): string {
    const root = mkdtempSync(join(tmpdir(), 'loki-breakers-'));
    roots.push(root);
    if (content !== null) {
      mkdirSync(dirname(circuitBreakerConfigPath(root)), { recursive: true });
      writeFileSync(circuitBreakerConfigPath(root), content);
    }
    return root;
  }

  it('reads the file loki init writes, with per-type overrides', () => {
    const config = loadCircuitBreakerConfig(workspaceWith(CIRCUIT_BREAKERS_TEMPLATE));
    expect(config.defaults).toEqual({ failureThreshold: 5, cooldownSeconds: 300, halfOpenRequests: 3 });
    expect(breakerSettingsFor(config, 'agent-type:ops-security')).toEqual({
      failureThreshold: 3,
      cooldownSeconds: 300,
      halfOpenRequests: 3,
    });
    expect(breakerSettingsFor(config, 'provider:anthropic').failureThreshold).toBe(5);
  });

  it('uses the defaults when the file is missing', () => {
    expect(loadCircuitBreakerConfig(workspaceWith(null)).defaults.cooldownSeconds).toBe(300);
  });

  it('rejects invalid values naming the key and the file', () => {
    const root = workspaceWith('defaults:\n  failureThreshold: 0\n');
    expect(() => loadCircuitBreakerConfig(root)).toThrow(
      /defaults\.failureThreshold in .*circuit-breakers\.yaml/,
    );
    const unknown = workspaceWith('defaults:\n  threshold: 3\n');
    expect(() => loadCircuitBreakerConfig(unknown)).toThrow(/invalid configuration/);
  });
});
