import { systemClock } from '../../src/clock/index.ts';
import { classifyModelFailure, type ProviderName } from '../../src/providers/index.ts';

/** A retry policy of one attempt and no wait, for tests whose sessions must succeed first time. */
export function singleAttempt(provider: ProviderName) {
  return {
    settings: { maxRetries: 0, baseWaitMilliseconds: 1000, maxWaitMilliseconds: 1000 },
    classify: (error: unknown) => classifyModelFailure(error, { provider }),
    breakers: [],
    random: () => 0,
    clock: systemClock,
    sleep: async () => {},
  };
}
