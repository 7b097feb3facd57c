import type { Backend, CudaEngine, SerializationConfig } from '@trt-refit/core';
import { checkInputFile } from './io.js';

/** How a command deserializes a plan: optionally allowing embedded lean-runtime host code, or through a lean runtime. */
export interface DeserializeOptions {
  allowHostCode?: boolean;
  leanRuntime?: string;
}

/** Reads and deserializes a plan file on `backend` (`runtime.deserializeCudaEngineFromFile`: each backend reads it its way). */
export async function deserializePlanFile(backend: Backend, path: string, opts: DeserializeOptions): Promise<CudaEngine> {
  let runtime = backend.createRuntime();
  if (opts.allowHostCode) runtime.setEngineHostCodeAllowed(true);
  if (opts.leanRuntime) runtime = await runtime.loadRuntime(opts.leanRuntime);
  await checkInputFile(path); // the same refusals as other inputs (missing, FIFO, directory), with the CLI's wording
  return runtime.deserializeCudaEngineFromFile(path);
}

/** Serializes `engine` with `config` into `path` (`engine.serializeToFile`: streamed where the backend can). */
export function serializePlanFile(engine: CudaEngine, config: SerializationConfig, path: string): Promise<number> {
  return engine.serializeToFile(path, config);
}
