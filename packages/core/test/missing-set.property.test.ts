import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataType, RefitState, WeightsRole, type WeightInventory, type Weights } from '@trt-refit/core';

/** A random engine: n weights, random (possibly overlapping, possibly foreign-named) fusion groups, a stripped subset. */
const inventoryArb = fc
  .integer({ min: 1, max: 24 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      groups: fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n + 2 }), { minLength: 1, maxLength: 5 }), { maxLength: 8 }),
      stripped: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }),
    }),
  );

const name = (i: number) => `w${i}`;
function toInventory(g: { n: number; groups: number[][]; stripped: number[] }): WeightInventory {
  return {
    weights: Array.from({ length: g.n }, (_, i) => ({ name: name(i), dtype: DataType.FLOAT, count: 1, dims: [1], role: WeightsRole.CONSTANT, layer: `l${i}` })),
    // indices >= n stand for fused weights that are not refittable (the refitter never reports them)
    fusionGroups: g.groups.map((grp) => grp.map(name)),
    stripped: g.stripped.map(name),
  };
}
const one = (): Weights => ({ type: DataType.FLOAT, values: new Float32Array(1), count: 1 });

/** Brute force: grow the set of weights reachable through groups from each set weight, to a fixpoint. */
function bruteMissing(g: { n: number; groups: number[][] }, set: Set<number>, stripped: Set<number>): string[] {
  const reach = new Set<number>([...set, ...stripped]);
  let changed = true;
  while (changed) {
    changed = false;
    for (const grp of g.groups) {
      const inside = grp.filter((i) => i < g.n);
      if (inside.some((i) => reach.has(i))) for (const i of inside) if (!reach.has(i)) { reach.add(i); changed = true; }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < g.n; i++) if (reach.has(i) && !set.has(i)) out.push(name(i));
  return out;
}

describe('missing set (property-based)', () => {
  it('equals the brute-force closure for random fusion structures and random set weights', () => {
    fc.assert(
      fc.property(inventoryArb, fc.array(fc.nat(), { maxLength: 10 }), (g, picks) => {
        const state = new RefitState(toInventory(g));
        const set = new Set(picks.map((p) => p % g.n));
        for (const i of set) expect(state.setNamedWeights(name(i), one())).toBe(true);
        expect(state.getMissingWeights()).toEqual(bruteMissing(g, set, new Set(g.stripped)));
      }),
      { numRuns: 1000 },
    );
  });

  it('is closed: supplying exactly the missing set leaves nothing missing, and the refit plan is then ok', () => {
    fc.assert(
      fc.property(inventoryArb, fc.array(fc.nat(), { maxLength: 10 }), (g, picks) => {
        const state = new RefitState(toInventory(g));
        for (const p of picks) state.setNamedWeights(name(p % g.n), one());
        for (const m of state.getMissingWeights()) expect(state.setNamedWeights(m, one())).toBe(true);
        expect(state.getMissingWeights()).toEqual([]);
        expect(state.planRefit().ok).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('10k random sequences of set / refused set / unset / getMissing / planRefit / commitRefit agree with a reference model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), i: fc.nat() }),
      // refused sets (wrong count, unknown name) must change nothing
      fc.record({ kind: fc.constant('bad-set' as const), i: fc.nat(), unknown: fc.boolean() }),
      fc.record({ kind: fc.constant('unset' as const), i: fc.nat() }),
      fc.record({ kind: fc.constant('missing' as const) }),
      fc.record({ kind: fc.constant('refit' as const) }),
      // a backend may report a partial refit: commit any names, known or not
      fc.record({ kind: fc.constant('commit' as const), is: fc.array(fc.nat(), { maxLength: 4 }) }),
    );
    fc.assert(
      fc.property(inventoryArb, fc.array(op, { maxLength: 12 }), (g, ops) => {
        const state = new RefitState(toInventory(g));
        // reference model
        const set = new Set<number>();
        const stripped = new Set(g.stripped);
        for (const o of ops) {
          if (o.kind === 'set') {
            const i = o.i % g.n;
            expect(state.setNamedWeights(name(i), one())).toBe(true);
            set.add(i);
          } else if (o.kind === 'bad-set') {
            const target = o.unknown ? `x${o.i}` : name(o.i % g.n);
            expect(state.setNamedWeights(target, { type: DataType.FLOAT, values: new Float32Array(2), count: 2 })).toBe(false);
          } else if (o.kind === 'commit') {
            state.commitRefit(o.is.map((i) => (i % 3 === 0 ? `x${i}` : name(i % g.n))));
            for (const i of o.is) if (i % 3 !== 0) stripped.delete(i % g.n);
          } else if (o.kind === 'unset') {
            const i = o.i % g.n;
            expect(state.unsetNamedWeights(name(i))).toBe(set.delete(i));
          } else if (o.kind === 'missing') {
            expect(state.getMissingWeights()).toEqual(bruteMissing(g, set, stripped));
          } else {
            const expectedOk = bruteMissing(g, set, stripped).length === 0;
            const plan = state.planRefit();
            expect(plan.ok).toBe(expectedOk);
            if (plan.ok) {
              expect(plan.updates.map((u) => u.name).sort()).toEqual([...set].map(name).sort());
              state.commitRefit(plan.updates.map((u) => u.name));
              for (const i of set) stripped.delete(i);
            }
          }
          for (let i = 0; i < g.n; i++) expect(state.isStripped(name(i))).toBe(stripped.has(i));
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('is right at scale: 200k weights in groups of 4 with 10% set (speed is measured by `pnpm bench`, case missing-set)', () => {
    const n = 200_000;
    const weights = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, dtype: DataType.FLOAT, count: 1, dims: [1], role: WeightsRole.CONSTANT, layer: `l${i}` }));
    const fusionGroups = Array.from({ length: n / 4 }, (_, k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3].map((i) => `w${i}`));
    const state = new RefitState({ weights, fusionGroups, stripped: [] });
    const w = one();
    for (let i = 0; i < n; i += 10) state.setNamedWeights(`w${i}`, w);
    // every 10th weight set: groups of 4 touched = those containing a multiple of 10 → 3 missing each (or 2 when two are set)
    expect(state.getMissingWeights().length).toBe(bruteCount(n));
    expect(state.getMissingWeights()).toEqual(state.getMissingWeights()); // cached result, same answer
  });
});

function bruteCount(n: number): number {
  let c = 0;
  for (let k = 0; k < n / 4; k++) {
    const members = [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3];
    const setIn = members.filter((i) => i % 10 === 0).length;
    if (setIn) c += 4 - setIn;
  }
  return c;
}
