export { executeLayers, unsupportedLayers, type ExecLayer, type WeightsSource } from './cpu-executor.js';
export { OPS, erf, type Op, type OpContext } from './ops.js';
export type { Tensor } from './tensor.js';
