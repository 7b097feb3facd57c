import { writeFile } from 'node:fs/promises';
import type { Backend, CudaEngine, SerializationConfig } from '@trt-refit/core';
import { checkInputFile, readInputFile } from './io.js';

/** How a command deserializes a plan: optionally allowing embedded lean-runtime host code, or through a lean runtime. */
export interface DeserializeOptions {
  allowHostCode?: boolean;
  leanRuntime?: string;
}

/** A runtime that reads plan files itself (the mock's, verifying while it reads). */
type FileRuntime = { deserializeCudaEngineFromFile(path: string): Promise<CudaEngine> };
/** An engine that writes plans to files itself (the mock's, streaming from its memory). */
type FileEngine = { serializeToFile(path: string, config: SerializationConfig): Promise<number> };

/** Reads and deserializes a plan file on `backend` (through the runtime's own file reader where it has one). */
export async function deserializePlanFile(backend: Backend, path: string, opts: DeserializeOptions): Promise<CudaEngine> {
  let runtime = backend.createRuntime();
  if (opts.allowHostCode) runtime.setEngineHostCodeAllowed(true);
  if (opts.leanRuntime) runtime = await runtime.loadRuntime(opts.leanRuntime);
  if (typeof (runtime as Partial<FileRuntime>).deserializeCudaEngineFromFile === 'function') {
    await checkInputFile(path); // the same refusals as other inputs (missing, FIFO, directory)
    return (runtime as unknown as FileRuntime).deserializeCudaEngineFromFile(path);
  }
  return runtime.deserializeCudaEngine(await readInputFile(path));
}

/** Serializes `engine` with `config` into `path` (streamed where the engine can), resolving to the plan's size. */
export async function serializePlanFile(engine: CudaEngine, config: SerializationConfig, path: string): Promise<number> {
  if (typeof (engine as Partial<FileEngine>).serializeToFile === 'function') return (engine as unknown as FileEngine).serializeToFile(path, config);
  const bytes = engine.serializeWithConfig(config);
  await writeFile(path, bytes);
  return bytes.byteLength;
}
