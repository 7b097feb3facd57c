import { describe, expect, it } from 'vitest';
import { createMockBackend } from '@trt-refit/mock-backend';
import { fuzz } from '../../../fuzz/harness.js';
import { planReader, planSeeds } from '../../../fuzz/targets.js';

describe('fuzzing (smoke)', () => {
  it('plan reader: mutated plans give InvalidPlanError or a bounded result', async () => {
    const stats = await fuzz(planReader, await planSeeds(createMockBackend()), { seconds: 10 });
    expect(stats.inputs).toBeGreaterThan(500);
    expect(stats.refused).toBeGreaterThan(0);
    expect(stats.codes).toEqual({ ERR_TRT_REFIT_INVALID_PLAN: stats.refused }); // every damage is caught as such
  }, 60_000);
});
