export { executeLayers, unsupportedLayers, type ExecLayer, type WeightsSource } from './cpu-executor.js';
export { OPS, erf } from './ops.js';
