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
    // The same fields as an inspection through a backend (name, kind, scope, dtype, dims, storage, bytes), plus the
    // plan's own facts (role, count, refittable, stripped).
    weights: p.weights.map((w) => ({
      name: w.name,
      kind: w.refittable ? 'refittable' : 'constant',
      scope: w.layer,
      dtype: w.dtype,
      dims: [...w.dims],
      storage: w.stripped ? 'stripped' : 'plan',
      bytes: w.data?.byteLength ?? 0,
      role: w.role,
      count: w.count,
      refittable: w.refittable,
      stripped: w.stripped,
    })),
    layers: p.engineLayers.map((l) => ({ name: l.name, type: l.type, fusedFrom: l.fusedFrom, weights: l.weights })),
  };
}
