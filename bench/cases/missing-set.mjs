// missing-set: what a refit of a 1M-weight engine costs the refit model (@trt-refit/core's RefitState, which every
// backend's refitter delegates to): N−1 setNamedWeights (every weight but one, one Weights object each, prepared
// before timing) and then getMissingWeights (the fusion group of the one left out: 4 weights in groups of 4).
//   ours:     that, on a fresh state (built outside the timing) of 1M weights
//   baseline: a bare Map set loop over the same N−1 names and Weights objects, then a lookup of the one left out
//   limit:    none measured separately (the baseline is the least work that keeps N−1 weights by name)
//   scaling:  ours at 1M / ours at 100k (the same work on a tenth of the weights), steady state (medians of
//             alternated runs)
import { DataType, RefitState, WeightsRole } from '@trt-refit/core';
import { alternate, figures } from '../lib.mjs';

function inventory(n) {
  const weights = Array.from({ length: n }, (_, i) => ({ name: `layers.${i >> 2}.w${i & 3}`, dtype: DataType.FLOAT, count: 1, dims: [1], role: WeightsRole.CONSTANT, layer: `l${i >> 2}` }));
  const fusionGroups = Array.from({ length: n / 4 }, (_, k) => weights.slice(4 * k, 4 * k + 4).map((w) => w.name));
  const names = weights.map((w) => w.name);
  const values = names.map(() => ({ type: DataType.FLOAT, values: new Float32Array(1), count: 1 }));
  return { inv: { weights, fusionGroups, stripped: [] }, names, values, n };
}

export default {
  name: 'missing-set',
  async run({ runs }) {
    const big = inventory(1_000_000);
    const small = inventory(100_000);
    const mapLoop = () => {
      const m = new Map();
      for (let i = 1; i < big.n; i++) m.set(big.names[i], big.values[i]);
      if (m.get(big.names[0]) !== undefined) throw new Error('unreachable');
    };
    // Each run needs a fresh state (else the sets would be re-sets): it is built after the clock stops, inside the
    // same call, so ours keeps its own clock.
    const timeOf = (x) => {
      let state = new RefitState(x.inv);
      return () => {
        const s = state;
        const t0 = process.hrtime.bigint();
        for (let i = 1; i < x.n; i++) if (!s.setNamedWeights(x.names[i], x.values[i])) throw new Error('set failed');
        const missing = s.getMissingWeights();
        const t = Number(process.hrtime.bigint() - t0) / 1e9;
        if (missing.length !== 1 || missing[0] !== x.names[0]) throw new Error(`missing ${missing.slice(0, 5)}`);
        state = new RefitState(x.inv);
        return t;
      };
    };
    const ours1m = timeOf(big);
    const ours100k = timeOf(small);
    const inner = { ours: [], ours100k: [] };
    const timed = await alternate(
      {
        ours: async () => inner.ours.push(ours1m()),
        baseline: mapLoop,
        ours100k: async () => inner.ours100k.push(ours100k()),
      },
      runs,
    );
    // ours' own clock (without building the next state), median over the timed runs (the warm-up dropped)
    const med = (t) => {
      const s = t.slice(1).sort((a, b) => a - b);
      return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    const range = (t) => [Math.min(...t.slice(1)), Math.max(...t.slice(1))];
    timed.ours = { median: med(inner.ours), min: range(inner.ours)[0], max: range(inner.ours)[1] };
    const f = figures({ ours: timed.ours, baseline: timed.baseline });
    const ms100k = med(inner.ours100k) * 1e3;
    const scaling = f.ours / ms100k;
    return {
      ...f,
      baselineName: 'Map set loop over the same N−1 names',
      weights: big.n,
      ms100k,
      spread100k: range(inner.ours100k).map((t) => t * 1e3),
      scaling,
      target: 'ratio <= 1.5, scaling <= 11',
      met: f.ratio <= 1.5 && scaling <= 11,
    };
  },
};
