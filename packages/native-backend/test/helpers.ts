import { MemoryLogger, type BuilderFlag } from '@trt-refit/core';
import { loadNativeBackend, type NativeBackend, type NativeCudaEngine } from '../src/index.js';
import { CONVBN, fakeBinding, type FakeBinding, type FakeModel, type FakeOptions } from './fake-binding.js';

export const MODEL_PATH = '/models/convbn.onnx';

export interface Setup {
  binding: FakeBinding;
  backend: NativeBackend;
  logger: MemoryLogger;
}

/** A native backend over the fake addon, logging into a MemoryLogger; the convbn-like model is at MODEL_PATH. */
export function setup(options: FakeOptions = {}, model: FakeModel = CONVBN): Setup {
  const binding = fakeBinding(options);
  binding.files.set(MODEL_PATH, model);
  const logger = new MemoryLogger();
  const backend = loadNativeBackend({ binding, logger, env: {} });
  return { binding, backend, logger };
}

/** Parses MODEL_PATH, builds with `flags` and deserializes. */
export async function buildEngine(s: Setup, flags: BuilderFlag[]): Promise<NativeCudaEngine> {
  const builder = s.backend.createBuilder();
  const network = builder.createNetwork();
  const parser = s.backend.createOnnxParser(network);
  if (!(await parser.parseFromFile(MODEL_PATH))) throw new Error('parse failed');
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  const plan = await builder.buildSerializedNetwork(network, config);
  return s.backend.createRuntime().deserializeCudaEngine(plan);
}

/** Resolves after pending microtasks and one macrotask. */
export function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/** A device buffer of some other backend: it has the DeviceBuffer shape but is not the native backend's. */
export function foreignDeviceBuffer(byteLength: number) {
  return {
    byteLength,
    deviceId: -1,
    disposed: false,
    upload() {},
    uploadAsync: async () => {},
    download: () => new Uint8Array(byteLength),
    downloadAsync: async () => new Uint8Array(byteLength),
    dispose() {},
  };
}
