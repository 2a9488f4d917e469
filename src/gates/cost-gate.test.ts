import { describe, expect, it } from 'vitest';
import { evaluateCostGate, projectHostingCost } from './cost-gate.ts';

const service = projectHostingCost(true);

describe('the cost gate', () => {
  it('passes a run that stayed within its cap, with the spend and the hosting projection', () => {
    const result = evaluateCostGate({ spentUsd: 1.25, capUsd: 2, unknownPriceCalls: 0 }, service);
    expect(result.verdict).toBe('pass');
    expect(result.reason).toBe(`spent $1.2500 of a $2.00 cap; ${result.evidence.outputExcerpt}`);
    expect(result.evidence.outputExcerpt).toMatch(
      /^projected hosting \$0–\$25\/month \(\$0 on the local target/,
    );
  });

  it('fails a run that went past its cap (an agent CLI’s last turn can overshoot)', () => {
    const result = evaluateCostGate({ spentUsd: 2.4, capUsd: 2, unknownPriceCalls: 1 }, service);
    expect(result.verdict).toBe('fail');
    expect(result.reason).toMatch(
      /^over the cap: spent \$2\.4000 of a \$2\.00 cap \(1 call\(s\) of a model with no known price/,
    );
  });

  it('is not proven where no run spent anything it knows of, and projects nothing for a non-service', () => {
    const result = evaluateCostGate(null, projectHostingCost(false));
    expect(result.verdict).toBe('not-proven');
    expect(result.reason).toMatch(
      /^no Loki run here: the spend is unknown; projected hosting \$0–\$0\/month \(not a service/,
    );
  });
});
