// missing-set: what a refit of a 1M-weight engine costs the refit model (@trt-refit/core's RefitState, which every
// backend's refitter delegates to): N−1 setNamedWeights (every weight but one, one Weights object each, prepared
// before timing) and then getMissingWeights (the fusion group of the one left out: 4 weights in groups of 4).
//   ours:     that, on a fresh state (built outside the timing) of 1M weights
//   baseline: a bare Map set loop over the same N−1 names and Weights objects (what a user's own bookkeeping costs)
//   limit:    the least work that keeps N−1 weights by name in an engine's index: Map.get of each name in a prebuilt
//             name → index map, then an array store
//   scaling:  ours at 1M / ours at 100k, steady state (medians of alternated runs); `limitScaling` is the same for
//             the limit loop (how a name lookup itself scales once 1M names no longer fit in the caches), and
//             `missingScaling` is getMissingWeights alone (after one set invalidates its cache), 100k → 1M.
import { DataType, RefitState, WeightsRole } from '@trt-refit/core';
import { alternate, figures } from '../lib.mjs';

function inventory(n) {
  const weights = Array.from({ length: n }, (_, i) => ({ name: `layers.${i >> 2}.w${i & 3}`, dtype: DataType.FLOAT, count: 1, dims: [1], role: WeightsRole.CONSTANT, layer: `l${i >> 2}` }));
  const fusionGroups = Array.from({ length: n / 4 }, (_, k) => weights.slice(4 * k, 4 * k + 4).map((w) => w.name));
  const names = weights.map((w) => w.name);
  const values = names.map(() => ({ type: DataType.FLOAT, values: new Float32Array(1), count: 1 }));
  return { inv: { weights, fusionGroups, stripped: [] }, names, values, n };
}

const median = (t) => {
  const s = [...t].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export default {
  name: 'missing-set',
  async run({ runs }) {
    const big = inventory(1_000_000);
    const small = inventory(100_000);
    // Each run needs a fresh state (else the sets would be re-sets): it is built after the clock stops, inside the
    // same call, so ours keeps its own clock.
    const timeOf = (x, into) => {
      let state = new RefitState(x.inv);
      return () => {
        const s = state;
        const t0 = process.hrtime.bigint();
        for (let i = 1; i < x.n; i++) if (!s.setNamedWeights(x.names[i], x.values[i])) throw new Error('set failed');
        const missing = s.getMissingWeights();
        const t = Number(process.hrtime.bigint() - t0) / 1e9;
        if (missing.length !== 1 || missing[0] !== x.names[0]) throw new Error(`missing ${missing.slice(0, 5)}`);
        into.push(t);
        state = new RefitState(x.inv);
      };
    };
    const mapLoop = (x) => () => {
      const m = new Map();
      for (let i = 1; i < x.n; i++) m.set(x.names[i], x.values[i]);
      if (m.get(x.names[0]) !== undefined) throw new Error('unreachable');
    };
    const indexLoop = (x) => {
      const index = new Map(x.names.map((n, i) => [n, i]));
      const slots = new Array(x.n).fill(undefined);
      return () => {
        for (let i = 1; i < x.n; i++) slots[index.get(x.names[i])] = x.values[i];
      };
    };
    // getMissingWeights alone: a set invalidates its cache, then the closure is recomputed over the whole engine.
    const missingOnly = (x, into) => {
      const s = new RefitState(x.inv);
      for (let i = 0; i < x.n; i += 10) s.setNamedWeights(x.names[i], x.values[i]);
      return () => {
        s.setNamedWeights(x.names[0], x.values[0]);
        const t0 = process.hrtime.bigint();
        s.getMissingWeights();
        into.push(Number(process.hrtime.bigint() - t0) / 1e9);
      };
    };
    const own = { big: [], small: [], missBig: [], missSmall: [] };
    const timed = await alternate(
      {
        ours: timeOf(big, own.big),
        baseline: mapLoop(big),
        limit: indexLoop(big),
        ours100k: timeOf(small, own.small),
        limit100k: indexLoop(small),
        missing1M: missingOnly(big, own.missBig),
        missing100k: missingOnly(small, own.missSmall),
      },
      Math.max(runs, 15),
    );
    // ours' own clock (without building the next state), over the timed runs (the warm-up dropped)
    const drop = (t) => t.slice(1);
    timed.ours = { median: median(drop(own.big)), min: Math.min(...drop(own.big)), max: Math.max(...drop(own.big)) };
    const f = figures({ ours: timed.ours, baseline: timed.baseline, limit: timed.limit });
    const ms100k = median(drop(own.small)) * 1e3;
    const scaling = f.ours / ms100k;
    const limitScaling = timed.limit.median / timed.limit100k.median;
    const missingScaling = median(drop(own.missBig)) / median(drop(own.missSmall));
    return {
      ...f,
      baselineName: 'Map set loop over the same N−1 names',
      limitName: 'Map.get in a name → index map + array store',
      weights: big.n,
      ms100k,
      scaling,
      limitScaling,
      missingMs1M: median(drop(own.missBig)) * 1e3,
      missingScaling,
      target: 'ratio <= 1.5, missingScaling <= 11 (scaling: see limitScaling)',
      met: f.ratio <= 1.5 && missingScaling <= 11,
    };
  },
};
