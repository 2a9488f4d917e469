import { describe, expect, it } from 'vitest';
import { parseDeployConfig } from './deploy-config.ts';

const PATH = '/work/.loki/config/deploy.yaml';

describe('deploy.yaml', () => {
  it('defaults to the local target, blue-green, and no health path of its own', () => {
    expect(parseDeployConfig({}, PATH)).toEqual({ target: 'local', strategy: 'blue-green' });
  });

  it('reads the strategy and canary thresholds of the local target, and refuses canary elsewhere', () => {
    expect(
      parseDeployConfig({ strategy: 'canary', canary: { steps: [20, 60], minimumRequests: 5 } }, PATH),
    ).toMatchObject({ strategy: 'canary', canary: { steps: [20, 60], minimumRequests: 5 } });
    expect(() => parseDeployConfig({ canary: { steps: [50, 10] } }, PATH)).toThrow(
      /canary\.steps in .*expected increasing percents/,
    );
    expect(() => parseDeployConfig({ canary: { step: [10] } }, PATH)).toThrow(
      /unknown key "canary\.step" .*Did you mean "canary\.steps"\?/,
    );
    expect(() =>
      parseDeployConfig({ target: 'fly', strategy: 'canary', fly: { app: 'shop' } }, PATH),
    ).toThrow(/strategy in .*canary is the local target's; target fly deploys with blue-green/);
  });

  it('reads a cloud target with its section', () => {
    const config = parseDeployConfig(
      {
        target: 'kubernetes',
        kubernetes: { manifests: 'k8s/', deployment: 'web', url: 'https://web.example.com' },
      },
      PATH,
    );
    expect(config.kubernetes).toMatchObject({ deployment: 'web', rolloutTimeoutSeconds: 300 });
  });

  it('refuses unknown keys with the closest known key, at the top and inside a section', () => {
    expect(() => parseDeployConfig({ targte: 'fly' }, PATH)).toThrow(
      'invalid configuration: unknown key "targte" in /work/.loki/config/deploy.yaml. Did you mean "target"?',
    );
    expect(() => parseDeployConfig({ target: 'fly', fly: { app_name: 'shop' } }, PATH)).toThrow(
      /unknown key "fly\.app_name" .* Known keys here: app\./,
    );
    expect(() => parseDeployConfig({ target: 'fly', fly: { ap: 'shop' } }, PATH)).toThrow(
      /Did you mean "fly\.app"\?/,
    );
  });

  it('names the key and the fix for a bad value, a missing section and an option-like name', () => {
    expect(() => parseDeployConfig({ target: 'heroku' }, PATH)).toThrow(
      /target in .*deploy\.yaml: expected one of local, container, vercel, .* kubernetes\. Fix the value/,
    );
    expect(() => parseDeployConfig({ target: 'fly' }, PATH)).toThrow(
      /fly in .*: target fly needs a "fly:" section \(its keys: app\)/,
    );
    expect(() => parseDeployConfig({ target: 'fly', fly: { app: '--config=/etc/passwd' } }, PATH)).toThrow(
      /fly\.app in .*not starting with -/,
    );
    expect(() =>
      parseDeployConfig(
        { target: 'kubernetes', kubernetes: { manifests: '../x', deployment: 'w', url: 'https://a.b' } },
        PATH,
      ),
    ).toThrow(/kubernetes\.manifests .*relative, no \.\./);
  });
});
