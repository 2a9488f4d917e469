import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../clock/index.ts';
import { resolveDashboardPort } from './dashboard-port.ts';

describe('resolveDashboardPort', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  const contextWith = (env: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'loki-dashboard-port-'));
    roots.push(root);
    return { cwd: root, env, clock: systemClock };
  };

  it('takes the default port when nobody chose one, and says so', () => {
    expect(resolveDashboardPort(undefined, contextWith({}))).toEqual({ port: 57374, isChosen: false });
  });

  it('takes --port, then LOKI_DASHBOARD_PORT, as the user’s choice', () => {
    expect(resolveDashboardPort('8123', contextWith({ LOKI_DASHBOARD_PORT: '9000' }))).toEqual({
      port: 8123,
      isChosen: true,
    });
    expect(resolveDashboardPort(undefined, contextWith({ LOKI_DASHBOARD_PORT: '9000' }))).toEqual({
      port: 9000,
      isChosen: true,
    });
  });

  it('refuses a --port that is not a port number', () => {
    expect(() => resolveDashboardPort('http', contextWith({}))).toThrow(/--port must be a port number/);
  });
});
