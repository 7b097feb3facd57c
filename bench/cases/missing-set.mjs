// missing-set: getMissingWeights after setting 10% of the weights of inventories of 100k and 1M weights in fusion
// groups of 4. Figure: ms at 1M; baseline: ms at 100k; ratio (scaling) = time(1M) / time(100k), target <= 12.
import { DataType, RefitState, WeightsRole } from '@trt-refit/core';
import { medianSeconds } from '../lib.mjs';

function setup(n) {
  const weights = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, dtype: DataType.FLOAT, count: 1, dims: [1], role: WeightsRole.CONSTANT, layer: `l${i}` }));
  const fusionGroups = Array.from({ length: n / 4 }, (_, k) => [`w${4 * k}`, `w${4 * k + 1}`, `w${4 * k + 2}`, `w${4 * k + 3}`]);
  const state = new RefitState({ weights, fusionGroups, stripped: [] });
  const one = { type: DataType.FLOAT, values: new Float32Array(1), count: 1 };
  for (let i = 0; i < n; i += 10) state.setNamedWeights(`w${i}`, one);
  return state;
}

export default {
  name: 'missing-set',
  async run({ runs }) {
    const small = setup(100_000);
    const big = setup(1_000_000);
    // Each run invalidates the cache (unset + set) so the closure is really recomputed.
    const measure = (state) => () => {
      state.unsetNamedWeights('w0');
      state.setNamedWeights('w0', { type: DataType.FLOAT, values: new Float32Array(1), count: 1 });
      return state.getMissingWeights().length;
    };
    const t100k = await medianSeconds(measure(small), runs);
    const t1m = await medianSeconds(measure(big), runs);
    const scaling = t1m / t100k;
    return { unit: 'ms', ours: t1m * 1e3, baseline: t100k * 1e3, ratio: scaling, scaling, ms100k: t100k * 1e3, ms1M: t1m * 1e3, target: 'scaling <= 12', met: scaling <= 12 };
  },
};
