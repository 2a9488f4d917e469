import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudClis } from '../../test/fakes/fake-cloud-cli.ts';
import { ManualClock } from '../clock/index.ts';
import { runDoctor } from '../doctor/index.ts';
import type { CliContext } from './cli-context.ts';
import { registerDeployTargetsCommand } from './deploy-targets-command.ts';

const TOKEN = 'vercel-token-0123456789';
let fakes: FakeCloudClis;
let output: string[];

beforeEach(() => {
  fakes = new FakeCloudClis();
  output = [];
});

afterEach(() => fakes.remove());

async function deployTargets(argv: string[], env: Record<string, string>): Promise<string> {
  const context: CliContext = {
    cwd: fakes.directory,
    env,
    clock: new ManualClock(),
    stdout: (text) => output.push(text),
    stderr: (text) => output.push(text),
    exitCode: 0,
  };
  const program = new Command('loki').exitOverride();
  registerDeployTargetsCommand(program, context);
  await program.parseAsync(argv, { from: 'user' });
  return output.join('');
}

describe('loki deploy targets', () => {
  it('lists each target as usable only with its CLI on PATH and its credential, never printing the credential', async () => {
    fakes.install('vercel', []);
    fakes.install('flyctl', []);
    const printed = await deployTargets(['deploy', 'targets', '--json'], fakes.env({ VERCEL_TOKEN: TOKEN }));
    const targets = JSON.parse(printed) as Array<{ name: string; usable: boolean; reason: string }>;
    expect(targets.map((target) => target.name)).toEqual([
      'local',
      'container',
      'vercel',
      'netlify',
      'fly',
      'railway',
      'cloud-run',
      'app-runner',
      'container-apps',
      'kubernetes',
    ]);
    expect(targets.find((target) => target.name === 'vercel')).toMatchObject({ usable: true });
    expect(targets.find((target) => target.name === 'fly')).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/flyctl found; FLY_API_TOKEN is not set/),
    });
    expect(targets.find((target) => target.name === 'netlify')).toMatchObject({
      usable: false,
      reason: expect.stringMatching(/^netlify not on PATH \(install: npm install -g netlify-cli\)/),
    });
    expect(printed).not.toContain(TOKEN);
  });

  it('prints one line per target and loki doctor sums them up', async () => {
    fakes.install('vercel', []);
    const env = fakes.env({ VERCEL_TOKEN: TOKEN });
    expect(await deployTargets(['deploy', 'targets'], env)).toMatch(
      /✓ vercel +vercel on PATH; credentials: VERCEL_TOKEN\n/,
    );
    const report = await runDoctor({ env });
    expect(report.checks.find((check) => check.name === 'deploy targets')).toEqual({
      name: 'deploy targets',
      isRequired: false,
      status: 'ok',
      detail: expect.stringMatching(
        /^usable: local, vercel; not usable here: container, netlify, .*`loki deploy targets` says why/,
      ),
    });
  });
});
