import { describe, expect, it } from 'vitest';
import { BudgetGovernor, createCallBudget } from '../../budget/index.ts';
import type { EventDataByType } from '../../events/index.ts';
import { priceUsage } from '../pricing/index.ts';
import { emptyUsageTotals } from '../pricing/index.ts';
import { CLI_TURN_MAX_OUTPUT_TOKENS, CliTurnMeter } from './cli-turn-meter.ts';

const MODEL = 'claude-sonnet-4-5';
/** $0.60 on claude-sonnet-4-5. */
const TURN = { inputTokens: 150_000, outputTokens: 10_000, cacheReadTokens: 0, cacheWriteTokens: 0 };

function setup(capUsd: number) {
  const governor = new BudgetGovernor({ capUsd });
  const recorded: EventDataByType['usage.recorded'][] = [];
  const meter = new CliTurnMeter({
    provider: 'claude-code',
    displayName: 'Claude Code',
    emit: (type, data) => {
      if (type === 'usage.recorded') recorded.push(data as EventDataByType['usage.recorded']);
    },
    usage: emptyUsageTotals(),
    budget: createCallBudget(governor, {
      taskId: 'task-1',
      agentType: 'eng-backend',
      maxOutputTokens: CLI_TURN_MAX_OUTPUT_TOKENS,
      priceUsage,
    }),
    modelId: MODEL,
    basePromptTokens: 30_000,
  });
  let stops = 0;
  meter.onStop = () => {
    stops += 1;
  };
  return { governor, meter, recorded, stops: () => stops };
}

describe('CliTurnMeter', () => {
  it('charges each turn, keeps one reserved ahead, and stops when the next could cross the cap', async () => {
    const { governor, meter, recorded, stops } = setup(1.5);
    await meter.beginSession(3_000);
    expect((await governor.summary()).reservedUsd).toBeGreaterThan(0);
    await meter.turnEnded({ modelId: MODEL, tokens: { ...TURN } });
    expect(meter.stopError).toBeNull();
    await meter.turnEnded({ modelId: MODEL, tokens: { ...TURN } });
    // $1.20 spent: the next turn's worst case (about $0.78) would cross $1.50.
    expect(meter.stopError?.code).toBe('BUDGET_EXHAUSTED');
    expect(stops()).toBe(1);
    // The turn in flight when the cap was reached is still charged, without a reservation.
    await meter.turnEnded({ modelId: MODEL, tokens: { ...TURN } });
    await meter.endSession();
    const summary = await governor.summary();
    expect(summary.spentUsd).toBeCloseTo(1.8, 6);
    expect(summary.reservedUsd).toBe(0);
    expect(recorded.map((data) => data.costUsd)).toEqual(
      [0.6, 0.6, 0.6].map((usd) => expect.closeTo(usd, 6)),
    );
    const error = await meter.stopErrorWithSpend();
    expect(error?.exitCode).toBe(4);
    expect(error?.message).toContain("spent $1.8000 of $1.50; the CLI's last turn may overshoot by one turn");
  });

  it('prices a model missing from the table at the dearest known rates, never as free', async () => {
    const { governor, meter, recorded } = setup(100);
    await meter.beginSession(0);
    await meter.turnEnded({ modelId: 'some-new-model', tokens: { ...TURN } });
    await meter.endSession();
    expect(recorded[0]?.isPriceKnown).toBe(false);
    expect(recorded[0]?.costUsd).toBeGreaterThan(priceUsage(MODEL, TURN).costUsd);
    expect((await governor.summary()).unknownPriceCalls).toBe(1);
  });

  it('refuses the first turn of a session that cannot start within the cap', async () => {
    const { meter, stops } = setup(0.01);
    await meter.beginSession(1_000);
    expect(meter.stopError?.code).toBe('BUDGET_EXHAUSTED');
    expect(stops()).toBe(1);
  });
});
