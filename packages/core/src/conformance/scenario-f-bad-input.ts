import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DataType } from '../data-type.js';
import { BuilderFlag } from '../enums.js';
import { isTrtRefitError, TrtRefitErrorCode } from '../errors.js';
import { buildFromOnnx, deserialize, refitterWithLogs, type ConformanceContext } from './context.js';

/** Resolves to the error a promise rejects with, or undefined. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected with nothing'),
  );
}

function replaceAll(bytes: Uint8Array, from: string, to: string): Uint8Array {
  if (from.length !== to.length) throw new Error('same-length replacement keeps the protobuf valid');
  const out = bytes.slice();
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  let n = 0;
  for (let i = 0; i + f.length <= out.length; i++) {
    if (f.every((b, k) => out[i + k] === b)) {
      out.set(t, i);
      n++;
    }
  }
  if (n === 0) throw new Error(`${from} not found`);
  return out;
}

export function badInputScenarios(ctx: ConformanceContext): void {
  const a = () => ctx.fixtures.path('convbn', 'convbn_a.onnx');

  it('F: a truncated or garbage ONNX model fails to parse with errors, never a crash', async () => {
    const backend = await ctx.factory();
    const bytes = await ctx.fixtures.bytes('convbn', 'convbn_a.onnx');
    for (const broken of [bytes.subarray(0, bytes.length >> 1), bytes.subarray(0, 7), new Uint8Array(64).fill(0xff), new Uint8Array(0)]) {
      const builder = backend.createBuilder();
      const parser = backend.createOnnxParser(builder.createNetwork());
      const ok = await parser.parse(broken, a()).catch((e: unknown) => {
        expect(isTrtRefitError(e)).toBe(true);
        return false;
      });
      expect(ok).toBe(false);
      builder.dispose();
    }
  });

  it('F: truncated, damaged and foreign plans are refused with a typed error', async () => {
    const backend = await ctx.factory();
    const plan = await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]);
    const runtime = backend.createRuntime();
    const damaged = plan.slice();
    damaged[damaged.length >> 1] = damaged[damaged.length >> 1]! ^ 0x40; // a bit in the middle of the weights
    for (const bad of [plan.subarray(0, plan.length - 1), plan.subarray(0, 16), damaged, await ctx.fixtures.bytes('convbn', 'convbn_a.onnx')]) {
      const error = await rejection(runtime.deserializeCudaEngine(bad));
      expect(isTrtRefitError(error), String(error)).toBe(true);
    }
  });

  it('F: wrong dtypes, counts and unknown names are false with a reason; malformed weights too', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]));
    const { refitter, recorder } = refitterWithLogs(backend, engine);
    const p = refitter.getWeightsPrototype('fc.bias');
    expect(refitter.setNamedWeights('fc.bias', { type: DataType.INT32, values: new Int32Array(p.count), count: p.count })).toBe(false);
    expect(refitter.setNamedWeights('fc.bias', { type: DataType.FLOAT, values: new Float32Array(p.count + 1), count: p.count + 1 })).toBe(false);
    // count disagrees with the buffer: refused, never read past the end
    expect(refitter.setNamedWeights('fc.bias', { type: DataType.FLOAT, values: new Float32Array(1), count: p.count })).toBe(false);
    expect(refitter.setNamedWeights('', { type: DataType.FLOAT, values: new Float32Array(p.count), count: p.count })).toBe(false);
    expect(recorder.getNbErrors()).toBeGreaterThanOrEqual(4);
    expect(refitter.getNamedWeights('fc.bias').values).toBeNull(); // nothing was set
  });

  it('F: external data outside the model folder and missing sidecars are refused, naming tensor and file', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    const dir = await mkdtemp(join(tmpdir(), 'trt-refit-conformance-'));
    const ext = await ctx.fixtures.bytes('convbn', 'convbn_a_ext.onnx');
    const cases: [string, Uint8Array, RegExp][] = [
      ['parent', replaceAll(ext, 'convbn_a_ext.weights', '../convbn_a_ext.weig'), /\.\.|outside|parent/i],
      ['absolute', replaceAll(ext, 'convbn_a_ext.weights', '/etc/a_ext.weights00'), /absolute|outside/i],
      ['missing', ext, /convbn_a_ext\.weights/],
    ];
    for (const [label, bytes, why] of cases) {
      const modelPath = join(dir, `${label}.onnx`);
      await writeFile(modelPath, bytes);
      const { refitter } = refitterWithLogs(backend, engine);
      const parserRefitter = backend.createParserRefitter(refitter);
      expect(await parserRefitter.refitFromFile(modelPath), label).toBe(false);
      const errors = Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i)?.desc ?? '').join('\n');
      expect(errors, label).toMatch(why);
      refitter.dispose();
    }
    // With the sidecar beside it, the same file refits.
    await copyFile(ctx.fixtures.path('convbn', 'convbn_a_ext.weights'), join(dir, 'convbn_a_ext.weights'));
    const { refitter } = refitterWithLogs(backend, engine);
    expect(await backend.createParserRefitter(refitter).refitFromFile(join(dir, 'missing.onnx'))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
  });

  it('F: use after dispose is refused with a typed error; dispose is idempotent', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]));
    const refitter = backend.createRefitter(engine);
    refitter.dispose();
    refitter.dispose();
    expect(() => refitter.getAllWeights()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    const buf = backend.device.allocate(16);
    buf.dispose();
    buf.dispose();
    expect(() => buf.upload(new Uint8Array(16))).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    engine.dispose();
    engine.dispose();
    expect(() => engine.createExecutionContext()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });
}
