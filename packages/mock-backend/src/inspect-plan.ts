import { readPlan } from './plan-file.js';

/**
 * What `trt-refit inspect <plan> --json` prints for a mock plan: format, backend, version, builder flags,
 * refittability, weights and the layers after fusion. Verifies the plan first (typed error when damaged).
 */
export function inspectPlan(bytes: Uint8Array): object {
  const p = readPlan(bytes);
  return {
    format: 'plan',
    backend: 'mock',
    tensorrtVersion: p.tensorrtVersion,
    builderFlags: p.builderFlags,
    refittable: p.refittable,
    weights: p.weights.map((w) => ({ name: w.name, dtype: w.dtype, count: w.count, role: w.role, refittable: w.refittable, stripped: w.stripped })),
    layers: p.engineLayers.map((l) => ({ name: l.name, type: l.type, fusedFrom: l.fusedFrom, weights: l.weights })),
  };
}
