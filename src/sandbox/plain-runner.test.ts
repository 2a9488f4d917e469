import { describeCommandRunnerConformance } from './command-runner-conformance.ts';
import { PlainRunner } from './plain-runner.ts';

describeCommandRunnerConformance(
  'plain',
  () =>
    new PlainRunner({
      timing: { killGraceMilliseconds: 500, killDeadlineMilliseconds: 5_000, outputDrainMilliseconds: 1_000 },
    }),
);
