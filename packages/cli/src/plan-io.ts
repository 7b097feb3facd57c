import type { Backend, CudaEngine } from '@trt-refit/core';
import { readInputFile } from './io.js';

/** How a command deserializes a plan: optionally allowing embedded lean-runtime host code, or through a lean runtime. */
export interface DeserializeOptions {
  allowHostCode?: boolean;
  leanRuntime?: string;
}

/** Reads and deserializes a plan file on `backend`. */
export async function deserializePlanFile(backend: Backend, path: string, opts: DeserializeOptions): Promise<CudaEngine> {
  const plan = await readInputFile(path);
  let runtime = backend.createRuntime();
  if (opts.allowHostCode) runtime.setEngineHostCodeAllowed(true);
  if (opts.leanRuntime) runtime = await runtime.loadRuntime(opts.leanRuntime);
  return runtime.deserializeCudaEngine(plan);
}
