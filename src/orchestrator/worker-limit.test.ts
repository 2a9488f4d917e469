import { describe, expect, it } from 'vitest';
import { computeWorkerLimit, type MachineLoad, sampleMachineLoad, WorkerLimiter } from './worker-limit.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('computeWorkerLimit', () => {
  it('gives what was requested on a machine with room to spare', () => {
    expect(
      computeWorkerLimit({ requested: 4, freeMemoryBytes: 8 * GiB, loadAverage: 1.5, cpuCount: 8 }),
    ).toEqual({
      limit: 4,
      reason: null,
    });
  });

  it('lowers the limit to what free memory holds after the reserve', () => {
    // (1256 − 256) MiB / 200 MiB = 5
    expect(
      computeWorkerLimit({ requested: 10, freeMemoryBytes: 1256 * MiB, loadAverage: 0, cpuCount: 8 }),
    ).toEqual({
      limit: 5,
      reason: 'free memory 1256 MiB allows 5 agents',
    });
    // (1255 − 256) MiB / 200 MiB = 4.995
    expect(
      computeWorkerLimit({ requested: 10, freeMemoryBytes: 1255 * MiB, loadAverage: 0, cpuCount: 8 }).limit,
    ).toBe(4);
  });

  it('never goes below one agent, even when memory is below the reserve', () => {
    expect(
      computeWorkerLimit({ requested: 4, freeMemoryBytes: 300 * MiB, loadAverage: 0, cpuCount: 4 }),
    ).toEqual({
      limit: 1,
      reason: 'free memory 300 MiB allows 1 agent',
    });
    expect(computeWorkerLimit({ requested: 4, freeMemoryBytes: 0, loadAverage: 0, cpuCount: 4 }).limit).toBe(
      1,
    );
  });

  it('honours custom per-worker and reserved memory', () => {
    const input = { requested: 8, freeMemoryBytes: 2 * GiB, loadAverage: 0, cpuCount: 4 };
    // (2048 − 1024) MiB / 512 MiB = 2
    expect(
      computeWorkerLimit({ ...input, memoryPerWorkerBytes: 512 * MiB, reservedMemoryBytes: GiB }).limit,
    ).toBe(2);
  });

  it('leaves the limit alone up to a load of twice the CPU count', () => {
    expect(
      computeWorkerLimit({ requested: 6, freeMemoryBytes: 8 * GiB, loadAverage: 8, cpuCount: 4 }).limit,
    ).toBe(6);
  });

  it('lowers the limit in proportion when the load is above twice the CPU count', () => {
    // floor(6 × 8 / 16) = 3
    expect(
      computeWorkerLimit({ requested: 6, freeMemoryBytes: 8 * GiB, loadAverage: 16, cpuCount: 4 }),
    ).toEqual({
      limit: 3,
      reason: 'load average 16.0 on 4 CPUs allows 3 agents',
    });
    // floor(6 × 2 / 100) = 0, raised to 1
    expect(
      computeWorkerLimit({ requested: 6, freeMemoryBytes: 8 * GiB, loadAverage: 100, cpuCount: 1 }),
    ).toEqual({
      limit: 1,
      reason: 'load average 100.0 on 1 CPU allows 1 agent',
    });
  });

  it('ignores the load average when told not to follow it, keeping the memory limit', () => {
    const busy = { requested: 6, freeMemoryBytes: 8 * GiB, loadAverage: 100, cpuCount: 2 };
    expect(computeWorkerLimit({ ...busy, followLoad: false })).toEqual({ limit: 6, reason: null });
    expect(computeWorkerLimit({ ...busy, freeMemoryBytes: 856 * MiB, followLoad: false })).toEqual({
      limit: 3,
      reason: 'free memory 856 MiB allows 3 agents',
    });
  });

  it('names both causes when memory and CPU are both short', () => {
    expect(
      computeWorkerLimit({ requested: 8, freeMemoryBytes: 856 * MiB, loadAverage: 32, cpuCount: 4 }),
    ).toEqual({
      // memory: (856 − 256) / 200 = 3; CPU: floor(8 × 8 / 32) = 2
      limit: 2,
      reason: 'free memory 856 MiB and load average 32.0 on 4 CPUs allow 2 agents',
    });
  });

  it('treats a request below one as one', () => {
    expect(
      computeWorkerLimit({ requested: 0, freeMemoryBytes: 8 * GiB, loadAverage: 0, cpuCount: 4 }),
    ).toEqual({
      limit: 1,
      reason: null,
    });
  });
});

describe('WorkerLimiter', () => {
  function scriptedMachine(initial: MachineLoad): {
    machine: MachineLoad;
    sample: () => MachineLoad;
    sampleCount: () => number;
  } {
    const machine = { ...initial };
    let count = 0;
    return {
      machine,
      sample: () => {
        count += 1;
        return { ...machine };
      },
      sampleCount: () => count,
    };
  }

  it('re-samples at most once per interval and reports when the limit changes', () => {
    let now = 1_000;
    const { machine, sample, sampleCount } = scriptedMachine({
      freeMemoryBytes: 8 * GiB,
      loadAverage: 0.5,
      cpuCount: 4,
    });
    const limiter = new WorkerLimiter({
      requested: 4,
      sample,
      minIntervalMilliseconds: 2_000,
      now: () => now,
    });

    expect(limiter.current()).toEqual({ limit: 4, reason: null, changed: false });
    expect(sampleCount()).toBe(1);

    machine.freeMemoryBytes = 656 * MiB; // (656 − 256) / 200 = 2
    now += 1_999;
    expect(limiter.current()).toEqual({ limit: 4, reason: null, changed: false });
    expect(sampleCount()).toBe(1);

    now += 1;
    expect(limiter.current()).toEqual({
      limit: 2,
      reason: 'free memory 656 MiB allows 2 agents',
      changed: true,
    });
    expect(sampleCount()).toBe(2);

    // Same limit on the next answer: no change reported, even after a new sample.
    expect(limiter.current()).toMatchObject({ limit: 2, changed: false });
    now += 2_000;
    expect(limiter.current()).toMatchObject({ limit: 2, changed: false });
    expect(sampleCount()).toBe(3);

    machine.freeMemoryBytes = 8 * GiB;
    now += 2_000;
    expect(limiter.current()).toEqual({ limit: 4, reason: null, changed: true });
  });

  it('reports a machine that is already short on the first answer', () => {
    const { sample } = scriptedMachine({ freeMemoryBytes: 8 * GiB, loadAverage: 40, cpuCount: 2 });
    const limiter = new WorkerLimiter({ requested: 10, sample, now: () => 0 });
    // floor(10 × 4 / 40) = 1
    expect(limiter.current()).toEqual({
      limit: 1,
      reason: 'load average 40.0 on 2 CPUs allows 1 agent',
      changed: true,
    });
  });

  it('samples the real machine by default', () => {
    const load = sampleMachineLoad();
    expect(load.freeMemoryBytes).toBeGreaterThan(0);
    expect(load.cpuCount).toBeGreaterThanOrEqual(1);
    expect(load.loadAverage).toBeGreaterThanOrEqual(0);
    const limit = new WorkerLimiter({ requested: 3 }).current().limit;
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(3);
  });
});
