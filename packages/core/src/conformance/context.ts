import { expect } from 'vitest';
import { BuilderFlag } from '../enums.js';
import { MemoryLogger, CollectingErrorRecorder } from '../logger.js';
import type { Backend, CudaEngine, HostTensor, Refitter } from '../interfaces.js';
import type { NetworkDefinition } from '../network.js';
import { maxRelativeError } from '../compare.js';
import type { ConformanceFixtures } from './fixtures.js';

/** Shared state of the suite's scenarios. */
export interface ConformanceContext {
  /** The backend factory given to `runConformanceSuite`; each scenario creates its backend with it. */
  readonly factory: () => Promise<Backend>;
  /** The fixtures of the suite (`fixturesDir`). */
  readonly fixtures: ConformanceFixtures;
  /** The backend's capabilities, defaults filled in; a test needing one it lacks is skipped or leaves the check out. */
  readonly caps: { execution: boolean; handBuiltNetworks: boolean; contentHashCheck: boolean };
  /** Relative tolerance of "outputs equal". */
  readonly tolerance: number;
  /** Resolves to a lean runtime library for the backend's version; undefined skips scenario D1. */
  readonly leanRuntimePath: (() => Promise<string>) | undefined;
}

/** Builds a plan from an ONNX fixture through the backend's ONNX parser. */
export async function buildFromOnnx(
  backend: Backend,
  modelPath: string,
  flags: readonly BuilderFlag[],
  prepare?: (network: NetworkDefinition) => void,
): Promise<Uint8Array> {
  const builder = backend.createBuilder();
  try {
    const network = builder.createNetwork();
    const parser = backend.createOnnxParser(network);
    const ok = await parser.parseFromFile(modelPath);
    const errors = Array.from({ length: parser.getNbErrors() }, (_, i) => parser.getError(i)?.desc);
    expect(ok, `parsing ${modelPath}: ${errors.join('; ')}`).toBe(true);
    prepare?.(network);
    const config = builder.createBuilderConfig();
    config.setFlags(flags);
    return await builder.buildSerializedNetwork(network, config);
  } finally {
    builder.dispose();
  }
}

/** Deserializes a plan on a fresh runtime. */
export async function deserialize(backend: Backend, plan: Uint8Array): Promise<CudaEngine> {
  return backend.createRuntime().deserializeCudaEngine(plan);
}

/** A refitter with a memory logger and a collecting error recorder attached. */
export function refitterWithLogs(backend: Backend, engine: CudaEngine): { refitter: Refitter; logger: MemoryLogger; recorder: CollectingErrorRecorder } {
  const logger = new MemoryLogger();
  const recorder = new CollectingErrorRecorder();
  const refitter = backend.createRefitter(engine, logger);
  refitter.setErrorRecorder(recorder);
  return { refitter, logger, recorder };
}

/** Sets every weight the ONNX model provides through the backend's parser refitter; fails the test otherwise. */
export async function refitFromOnnx(backend: Backend, refitter: Refitter, modelPath: string): Promise<void> {
  const parserRefitter = backend.createParserRefitter(refitter);
  const ok = await parserRefitter.refitFromFile(modelPath);
  const errors = Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i)?.desc);
  expect(ok, `refitFromFile(${modelPath}): ${errors.join('; ')}`).toBe(true);
  expect(refitter.getMissingWeights()).toEqual([]);
}

/** Runs the convbn engine on fixtures/convbn/input.npy and returns the logits. */
export async function runConvbn(ctx: ConformanceContext, engine: CudaEngine): Promise<Float32Array> {
  const input = await ctx.fixtures.npy('convbn', 'input.npy');
  const context = engine.createExecutionContext();
  try {
    return await logitsOf(context.execute({ input }));
  } finally {
    context.dispose();
  }
}

/** The single float output of an execution. */
export async function logitsOf(outputs: Promise<Record<string, HostTensor>>): Promise<Float32Array> {
  const out = await outputs;
  const values = Object.values(out);
  expect(values.length).toBe(1);
  const data = values[0]!.data;
  expect(data).toBeInstanceOf(Float32Array);
  return data as Float32Array;
}

/** Asserts "outputs equal" (relative tolerance of the suite). */
export async function expectLogits(ctx: ConformanceContext, actual: Float32Array, ...expected: string[]): Promise<void> {
  const ref = (await ctx.fixtures.npy(...expected)).data as Float32Array;
  const err = maxRelativeError(actual, ref);
  expect(err, `max relative error against ${expected.join('/')}`).toBeLessThanOrEqual(ctx.tolerance);
}

/** Names of the ONNX initializers of the convbn fixture that a Conv or Gemm uses directly. */
export const CONVBN_DIRECT = ['c1.weight', 'c1.bias', 'c2.weight', 'fc.weight', 'fc.bias'] as const;
/** BatchNormalization parameters of the convbn fixture: folded by the parser, so never refittable by these names. */
export const CONVBN_BN = ['b1.weight', 'b1.bias', 'b1.running_mean', 'b1.running_var', 'b2.weight', 'b2.bias', 'b2.running_mean', 'b2.running_var'] as const;

/** Copies weights out of a refitter (e.g. those a parser refitter set) so a test can own and change them. */
export function ownCopy(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
}
export { BuilderFlag };

/**
 * Skips the running test with `reason` and never returns: vitest's `t.skip` throws to stop the test, and should a
 * runner's not, this throws instead, so a scenario can never end green without its assertions.
 */
export function skipTest(t: { skip: (reason: string) => void }, reason: string): never {
  t.skip(reason);
  throw new Error(`skipped without stopping the test: ${reason}`);
}
