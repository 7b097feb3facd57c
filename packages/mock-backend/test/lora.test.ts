// LoRA hot-swap on the mock backend with adapters written here: PEFT and kohya keys, a Linear stored transposed
// under an anonymised name (resolved through the base checkpoint by content), a Gemm weight kept by name, a k×k
// Conv followed by BatchNormalization (the merged conv weight brings its fusion group). Oracle: onnxruntime on the
// merged model, whose weights are merged here in float64 by a plain loop.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, maxRelativeError, type Backend } from '@trt-refit/core';
import { LoraAdapterError, LoraMergePool, LoraRefitter, matchCheckpoint, mergeLoraSync, openLoraAdapter, openOnnxModel, openSafetensors, resolveLoraTargets, writeOnnxModel, writeSafetensors, type ModelSpec } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const dir = mkdtempSync(join(tmpdir(), 'trt-refit-lora-'));
let seed = 7;
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * scale);
const bytes = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
const t2 = (w: Float32Array, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, (_, k) => w[(k % rows) * cols + Math.floor(k / rows)]!);

// PyTorch-side weights: l1 Linear(8 → 6) exported as MatMul with its weight transposed under an anonymous name;
// fc Linear(6 → 4) exported as Gemm(transB=1) under its own name; conv 3×3 (3 → 4) + BN.
const W = { l1: rand(6 * 8), l1b: rand(6), fc: rand(4 * 6), fcb: rand(4), conv: rand(4 * 3 * 3 * 3), convb: rand(4) };
const bn = { scale: rand(4, 0.5).map((v) => v + 1), bias: rand(4), mean: rand(4), var: rand(4, 0.5).map((v) => v + 1) };

function modelSpec(w: typeof W): ModelSpec {
  const init = (name: string, dims: number[], v: Float32Array) => ({ name, dataType: 1, dims, raw: bytes(v) });
  return {
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'onnx::MatMul_17'], outputs: ['h0'] },
      { opType: 'Add', inputs: ['h0', 'l1.bias'], outputs: ['h1'] },
      { opType: 'Relu', inputs: ['h1'], outputs: ['h2'] },
      { opType: 'Gemm', inputs: ['h2', 'fc.weight', 'fc.bias'], outputs: ['y'], attributes: { transB: 1 } },
      { opType: 'Conv', inputs: ['img', 'conv.weight', 'conv.bias'], outputs: ['c0'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
      { opType: 'BatchNormalization', inputs: ['c0', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], outputs: ['z'] },
    ],
    initializers: [
      init('onnx::MatMul_17', [8, 6], t2(w.l1, 6, 8)),
      init('l1.bias', [6], w.l1b),
      init('fc.weight', [4, 6], w.fc),
      init('fc.bias', [4], w.fcb),
      init('conv.weight', [4, 3, 3, 3], w.conv),
      init('conv.bias', [4], w.convb),
      init('bn.weight', [4], bn.scale),
      init('bn.bias', [4], bn.bias),
      init('bn.running_mean', [4], bn.mean),
      init('bn.running_var', [4], bn.var),
    ],
    inputs: [
      { name: 'x', elemType: 1, dims: [2, 8] },
      { name: 'img', elemType: 1, dims: [1, 3, 6, 6] },
    ],
    outputs: [
      { name: 'y', elemType: 1, dims: [2, 4] },
      { name: 'z', elemType: 1, dims: [1, 4, 6, 6] },
    ],
  };
}

const basePath = join(dir, 'base.onnx');
writeFileSync(basePath, writeOnnxModel(modelSpec(W)).model);
const checkpoint = join(dir, 'base.safetensors');
const ckptEntries = (Object.entries({ 'l1.weight': [W.l1, [6, 8]], 'l1.bias': [W.l1b, [6]], 'fc.weight': [W.fc, [4, 6]], 'fc.bias': [W.fcb, [4]], 'conv.weight': [W.conv, [4, 3, 3, 3]] }) as [string, [Float32Array, number[]]][]).map(([name, [v, shape]]) => ({ name, dtype: 'F32', shape, read: () => bytes(v) }));
await writeSafetensors(checkpoint, ckptEntries);

// Adapters: PEFT (l1 rank 2, fc rank 3, alpha 4 and an alpha_pattern for fc) and kohya (l1 rank 2 alpha 1, conv k×k rank 2 alpha 4).
const peft = { l1: { a: rand(2 * 8, 0.4), b: rand(6 * 2, 0.4), r: 2, alpha: 4 }, fc: { a: rand(3 * 6, 0.4), b: rand(4 * 3, 0.4), r: 3, alpha: 1.5 } };
const kohya = { l1: { a: rand(2 * 8, 0.4), b: rand(6 * 2, 0.4), r: 2, alpha: 1 }, conv: { a: rand(2 * 27, 0.4), b: rand(4 * 2, 0.4), r: 2, alpha: 4 } };
const peftDir = join(dir, 'peft');
mkdirSync(peftDir);
await writeSafetensors(join(peftDir, 'adapter_model.safetensors'), [
  { name: 'base_model.model.l1.lora_A.weight', dtype: 'F32', shape: [2, 8], read: () => bytes(peft.l1.a) },
  { name: 'base_model.model.l1.lora_B.weight', dtype: 'F32', shape: [6, 2], read: () => bytes(peft.l1.b) },
  { name: 'base_model.model.fc.lora_A.weight', dtype: 'F32', shape: [3, 6], read: () => bytes(peft.fc.a) },
  { name: 'base_model.model.fc.lora_B.weight', dtype: 'F32', shape: [4, 3], read: () => bytes(peft.fc.b) },
]);
writeFileSync(join(peftDir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, rank_pattern: { fc: 3 }, alpha_pattern: { fc: 1.5 }, target_modules: ['l1', 'fc'] }));
const kohyaPath = join(dir, 'kohya.safetensors');
const scalar = (v: number) => ({ dtype: 'F32', shape: [] as number[], read: () => bytes(new Float32Array([v])) });
await writeSafetensors(kohyaPath, [
  { name: 'lora_unet_l1.lora_down.weight', dtype: 'F32', shape: [2, 8], read: () => bytes(kohya.l1.a) },
  { name: 'lora_unet_l1.lora_up.weight', dtype: 'F32', shape: [6, 2], read: () => bytes(kohya.l1.b) },
  { name: 'lora_unet_l1.alpha', ...scalar(1) },
  { name: 'lora_unet_conv.lora_down.weight', dtype: 'F32', shape: [2, 3, 3, 3], read: () => bytes(kohya.conv.a) },
  { name: 'lora_unet_conv.lora_up.weight', dtype: 'F32', shape: [4, 2, 1, 1], read: () => bytes(kohya.conv.b) },
  { name: 'lora_unet_conv.alpha', ...scalar(4) },
]);

/** W + Σ s·alpha/r·B·A in float64, rounded to float32 once. */
function merged(w: Float32Array, rows: number, cols: number, parts: { a: Float32Array; b: Float32Array; r: number; alpha: number; s: number }[]): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, k) => {
    const i = Math.floor(k / cols);
    const j = k % cols;
    let v = w[k]!;
    for (const p of parts) for (let q = 0; q < p.r; q++) v += ((p.s * p.alpha) / p.r) * p.b[i * p.r + q]! * p.a[q * cols + j]!;
    return v;
  });
}

/**
 * The float32 GEMM the kernel computes, step by step with Math.fround: factors concatenated along the rank (B
 * pre-scaled, stored as float32), zero-padded to groups of four; per group t = l0·r0 + l1·r1 + l2·r2 + l3·r3 (each
 * product and sum rounded to float32, as 4-lane SIMD does), then acc += t.
 */
function float32Gemm(w: ArrayLike<number>, rows: number, cols: number, f: { a: Float32Array; b: Float32Array; rank: number; scale: number }[]): Float32Array {
  const R = (f.reduce((s, x) => s + x.rank, 0) + 3) & ~3;
  const L = new Float32Array(rows * R);
  const Rm = new Float32Array(R * cols);
  let k0 = 0;
  for (const x of f) {
    for (let i = 0; i < rows; i++) for (let k = 0; k < x.rank; k++) L[i * R + k0 + k] = x.scale * x.b[i * x.rank + k]!;
    Rm.set(x.a, k0 * cols);
    k0 += x.rank;
  }
  const fr = Math.fround;
  return Float32Array.from({ length: rows * cols }, (_, e) => {
    const i = Math.floor(e / cols);
    const j = e % cols;
    let acc = fr(w[e]!);
    for (let k = 0; k < R; k += 4) {
      const l = [0, 1, 2, 3].map((q) => L[i * R + k + q]!);
      if (l.every((v) => v === 0)) continue;
      let t = fr(Rm[k * cols + j]! * l[0]!);
      for (let q = 1; q < 4; q++) t = fr(t + fr(Rm[(k + q) * cols + j]! * l[q]!));
      acc = fr(acc + t);
    }
    return acc;
  });
}

const inputs = { x: rand(2 * 8), img: rand(3 * 36) };
async function ortOutputs(w: typeof W): Promise<{ y: Float32Array; z: Float32Array }> {
  const s = await ort.InferenceSession.create(writeOnnxModel(modelSpec(w)).model);
  const o = await s.run({ x: new ort.Tensor('float32', inputs.x, [2, 8]), img: new ort.Tensor('float32', inputs.img, [1, 3, 6, 6]) });
  return { y: o.y!.data as Float32Array, z: o.z!.data as Float32Array };
}

async function refittableEngine(backend: Backend) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  expect(await backend.createOnnxParser(network).parseFromFile(basePath)).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlags([BuilderFlag.REFIT]);
  return backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
}
const run = async (engine: Awaited<ReturnType<typeof refittableEngine>>) => {
  const o = await engine.createExecutionContext().execute({ x: { data: inputs.x, dims: [2, 8] }, img: { data: inputs.img, dims: [1, 3, 6, 6] } });
  return { y: o.y!.data as Float32Array, z: o.z!.data as Float32Array };
};

describe('LoRA adapters', () => {
  it('reads PEFT (config alphas, rank_pattern) and kohya (alpha tensors, conv k×k) adapters', async () => {
    const p = await openLoraAdapter(peftDir);
    expect(p.format).toBe('peft');
    expect(p.modules.map((m) => [m.key, m.rank, m.alpha, m.kind, m.rows, m.cols])).toEqual([
      ['l1', 2, 4, 'linear', 6, 8],
      ['fc', 3, 1.5, 'linear', 4, 6],
    ]);
    const k = await openLoraAdapter(kohyaPath);
    expect(k.format).toBe('kohya');
    expect(k.modules.map((m) => [m.key, m.rank, m.alpha, m.kind, m.rows, m.cols, m.weightShape])).toEqual([
      ['lora_unet_l1', 2, 1, 'linear', 6, 8, [6, 8]],
      ['lora_unet_conv', 2, 4, 'conv', 4, 27, [4, 3, 3, 3]],
    ]);
    const f = await k.readFactors(k.modules[1]!);
    expect(Array.from(f.a)).toEqual(Array.from(kohya.conv.a));
  });

  it('refuses unknown keys, LoRA variants and malformed modules, listing every one', async () => {
    const bad = join(dir, 'bad.safetensors');
    await writeSafetensors(bad, [
      { name: 'lora_unet_a.lora_down.weight', dtype: 'F32', shape: [2, 8], read: () => bytes(rand(16)) },
      { name: 'lora_unet_a.lora_up.weight', dtype: 'F32', shape: [6, 3], read: () => bytes(rand(18)) },
      { name: 'lora_unet_b.lora_down.weight', dtype: 'F32', shape: [2, 8], read: () => bytes(rand(16)) },
      { name: 'lora_unet_c.hada_w1_a', dtype: 'F32', shape: [2, 2], read: () => bytes(rand(4)) },
      { name: 'lora_unet_d.alpha', dtype: 'F32', shape: [2], read: () => bytes(rand(2)) },
      { name: 'something.else', dtype: 'F32', shape: [1], read: () => bytes(rand(1)) },
    ]);
    const err = (await openLoraAdapter(bad).catch((e: unknown) => e)) as LoraAdapterError;
    expect(err).toBeInstanceOf(LoraAdapterError);
    expect(err.problems.join('\n')).toMatch(/lora_unet_c\.hada_w1_a: LoHa/);
    expect(err.problems.join('\n')).toMatch(/keys that are not LoRA factors or alphas: something\.else/);
    expect(err.problems.join('\n')).toMatch(/lora_unet_a: down is \[2, 8\] \(rank 2\) but up is \[6, 3\]/);
    expect(err.problems.join('\n')).toMatch(/lora_unet_b: an up \(B\) factor missing/);
    expect(err.problems.join('\n')).toMatch(/lora_unet_d: both factors missing/);
    const cfgDir = join(dir, 'peft-bad');
    mkdirSync(cfgDir);
    await writeSafetensors(join(cfgDir, 'adapter_model.safetensors'), [
      { name: 'base_model.model.l1.lora_A.weight', dtype: 'F32', shape: [2, 8], read: () => bytes(rand(16)) },
      { name: 'base_model.model.l1.lora_B.weight', dtype: 'F32', shape: [6, 2], read: () => bytes(rand(12)) },
    ]);
    writeFileSync(join(cfgDir, 'adapter_config.json'), JSON.stringify({ r: 4, lora_alpha: 8 }));
    await expect(openLoraAdapter(cfgDir)).rejects.toThrow(/l1: the factors have rank 2 but adapter_config.json says 4/);
    writeFileSync(join(cfgDir, 'adapter_config.json'), '{ nope');
    await expect(openLoraAdapter(cfgDir)).rejects.toThrow(LoraAdapterError);
  });

  it('merges on the mock like onnxruntime runs the merged model; swapping to another adapter and back to the base is exact', async () => {
    const backend = createMockBackend();
    const engine = await refittableEngine(backend);
    const baseOut = await run(engine);
    const lora = await LoraRefitter.open(backend, engine, basePath, { base: checkpoint });
    try {
      const p = await openLoraAdapter(peftDir);
      const k = await openLoraAdapter(kohyaPath);
      // PEFT at 0.5: l1 (stored transposed as onnx::MatMul_17, found by content) and fc (by name)
      const r1 = await lora.apply([{ adapter: p, scale: 0.5 }]);
      expect(r1.merged.map((m) => [m.weight, m.modules.map((x) => [x.module, x.how, x.layout])])).toEqual([
        ['onnx::MatMul_17', [['l1', 'content-transposed', 'cols-rows']]],
        ['fc.weight', [['fc', 'name', 'rows-cols']]],
      ]);
      const e1 = { ...W, l1: merged(W.l1, 6, 8, [{ ...peft.l1, s: 0.5 }]), fc: merged(W.fc, 4, 6, [{ ...peft.fc, s: 0.5 }]) };
      let got = await run(engine);
      let want = await ortOutputs(e1);
      expect(maxRelativeError(got.y, want.y)).toBeLessThanOrEqual(1e-4);
      expect(Buffer.from(bytes(got.z)).equals(Buffer.from(bytes(baseOut.z)))).toBe(true); // conv untouched
      // both adapters: l1 gets two modules in one merge, conv (k×k, then BN) brings its fusion group from the base
      const r2 = await lora.apply([{ adapter: p, scale: 1 }, { adapter: k, scale: 0.7 }]);
      expect(r2.merged.find((m) => m.weight === 'onnx::MatMul_17')!.modules.map((x) => x.module)).toEqual(['l1', 'lora_unet_l1']);
      expect(r2.missingFromBase.length).toBeGreaterThan(0);
      const e2 = {
        ...W,
        l1: merged(W.l1, 6, 8, [{ ...peft.l1, s: 1 }, { ...kohya.l1, s: 0.7 }]),
        fc: merged(W.fc, 4, 6, [{ ...peft.fc, s: 1 }]),
        conv: merged(W.conv, 4, 27, [{ ...kohya.conv, s: 0.7 }]),
      };
      got = await run(engine);
      want = await ortOutputs(e2);
      expect(maxRelativeError(got.y, want.y)).toBeLessThanOrEqual(1e-4);
      expect(maxRelativeError(got.z, want.z)).toBeLessThanOrEqual(1e-4);
      // kohya alone: fc (merged before) goes back to the base
      const r3 = await lora.apply([{ adapter: k }]);
      expect(r3.merged.find((m) => m.weight === 'fc.weight')!.modules).toEqual([]);
      // back to the base: exactly the base engine's outputs
      await lora.restoreBase();
      got = await run(engine);
      expect(Buffer.from(bytes(got.y)).equals(Buffer.from(bytes(baseOut.y)))).toBe(true);
      expect(Buffer.from(bytes(got.z)).equals(Buffer.from(bytes(baseOut.z)))).toBe(true);
    } finally {
      await lora.dispose();
    }
  });

  it('a merge that returns DEVICE weights (as the native device merger does), refitted on a stream, gives the same values', async () => {
    const backend = createMockBackend();
    const host = await refittableEngine(backend);
    const dev = await refittableEngine(backend);
    const adapter = await openLoraAdapter(kohyaPath);
    const calls: string[] = [];
    const a = await LoraRefitter.open(backend, host, basePath, { base: checkpoint });
    const stream = backend.device.createStream();
    let asyncRefits = 0;
    const create = backend.createRefitter.bind(backend);
    const spied = Object.assign(Object.create(backend) as typeof backend, {
      createRefitter: (...args: Parameters<typeof backend.createRefitter>) => {
        const r = create(...args);
        return new Proxy(r, { get: (t, p) => (p === 'refitCudaEngineAsync' ? (s: typeof stream) => (asyncRefits++, t.refitCudaEngineAsync(s)) : Reflect.get(t, p)) });
      },
    });
    const b = await LoraRefitter.open(spied, dev, basePath, {
      base: checkpoint,
      stream, // refitCudaEngineAsync on it
      merge: async (weight, base, spec) => {
        calls.push(`${weight}:${spec.factors.length}`);
        const values = backend.device.fromHost(spec.factors.length ? mergeLoraSync(base, spec) : base);
        return { weights: { type: spec.type, values, count: base.byteLength / 4 }, location: 'DEVICE' };
      },
    });
    try {
      await a.apply([{ adapter, scale: 0.3 }]);
      await b.apply([{ adapter, scale: 0.3 }]);
      expect(calls).toEqual(['onnx::MatMul_17:1', 'conv.weight:1']);
      expect(asyncRefits).toBe(1);
      const [x, y] = [await run(host), await run(dev)];
      expect(Buffer.from(bytes(x.y)).equals(Buffer.from(bytes(y.y)))).toBe(true);
      expect(Buffer.from(bytes(x.z)).equals(Buffer.from(bytes(y.z)))).toBe(true);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('resolveLoraTargets uses a matching it is given instead of matching the checkpoint again', async () => {
    const model = await openOnnxModel(basePath);
    const base = await openSafetensors(checkpoint);
    const adapter = await openLoraAdapter(peftDir);
    const matching = await matchCheckpoint(model, base);
    const fresh = await resolveLoraTargets(model, [adapter], { base });
    const reused = await resolveLoraTargets(model, [adapter], { base, matching });
    expect(reused.targets.map((t) => [t.module.key, t.weight, t.how])).toEqual(fresh.targets.map((t) => [t.module.key, t.weight, t.how]));
    // a matching that places nothing: the targets follow it (it was not recomputed)
    const none = await resolveLoraTargets(model, [adapter], { base, matching: { matches: [], unmatchedCheckpoint: ['l1.weight'], unmatchedModel: [] } });
    expect(none.targets).toEqual([]);
    expect(none.unmatchedCheckpoint).toEqual(['l1.weight']);
  });

  it('without the base checkpoint an anonymised weight is reported unmatched, both ways', async () => {
    const backend = createMockBackend();
    const engine = await refittableEngine(backend);
    const lora = await LoraRefitter.open(backend, engine, basePath, { maxBatchBytes: 1 });
    try {
      const report = await lora.apply([{ adapter: await openLoraAdapter(peftDir) }]);
      expect(report.merged.map((m) => m.weight)).toEqual(['fc.weight']);
      expect(report.unmatchedModules).toEqual([{ adapter: join(peftDir, 'adapter_model.safetensors'), module: 'l1', reason: expect.stringMatching(/no tensor l1\.weight in the model/) }]);
      expect(report.refits).toBe(1);
    } finally {
      await lora.dispose();
    }
  });
});

describe('LoRA merge (CPU)', () => {
  it('is a float32 GEMM from the base rounded once to FLOAT, HALF or BF16 (both layouts, on the pool too), within float32 rounding of a float64 loop', async () => {
    const rows = 37;
    const cols = 53;
    const f = [
      { a: rand(3 * cols), b: rand(rows * 3), rank: 3, scale: 0.25 },
      { a: rand(5 * cols), b: rand(rows * 5), rank: 5, scale: -1.5 },
    ];
    const w = rand(rows * cols);
    const want = merged(w, rows, cols, [
      { a: f[0]!.a, b: f[0]!.b, r: 3, alpha: 3, s: 0.25 },
      { a: f[1]!.a, b: f[1]!.b, r: 5, alpha: 5, s: -1.5 },
    ]);
    const pool = new LoraMergePool(2);
    try {
      const fl = new Float32Array(mergeLoraSync(bytes(w), { type: DataType.FLOAT, rows, cols, layout: 'rows-cols', factors: f }).buffer);
      expect(maxRelativeError(fl, want)).toBeLessThanOrEqual(1e-5);
      expect(Array.from(fl)).toEqual(Array.from(float32Gemm(w, rows, cols, f))); // exactly the float32 GEMM
      const tr = new Float32Array(mergeLoraSync(bytes(t2(w, rows, cols)), { type: DataType.FLOAT, rows, cols, layout: 'cols-rows', factors: f }).buffer);
      expect(maxRelativeError(tr, t2(want, rows, cols))).toBeLessThanOrEqual(1e-5); // other summation order, same rounding
      // the pool splits rows among workers (forced with a big enough merge) and gives the same bytes
      const big = { rows: 512, cols: 1024 };
      const fb = [{ a: rand(16 * big.cols), b: rand(big.rows * 16), rank: 16, scale: 0.5 }];
      const wb = bytes(rand(big.rows * big.cols));
      const viaPool = await pool.merge(wb, { type: DataType.FLOAT, ...big, layout: 'rows-cols', factors: fb });
      expect(Buffer.from(viaPool).equals(Buffer.from(mergeLoraSync(wb, { type: DataType.FLOAT, ...big, layout: 'rows-cols', factors: fb })))).toBe(true);
      // HALF and BF16: the float32 result rounded once to 16 bits
      const { floatToHalf, floatToBf16, halfToFloat, bf16ToFloat } = await import('@trt-refit/onnx');
      for (const [type, enc, dec] of [
        [DataType.HALF, floatToHalf, halfToFloat],
        [DataType.BF16, floatToBf16, bf16ToFloat],
      ] as const) {
        const w16 = Uint16Array.from(w, (v) => enc(v));
        const w16f = Float32Array.from(w16, (h) => dec(h));
        const want16 = Uint16Array.from(float32Gemm(w16f, rows, cols, f), (v) => enc(v)); // rounded once, at the end
        const got16 = new Uint16Array(mergeLoraSync(new Uint8Array(w16.buffer), { type, rows, cols, layout: 'rows-cols', factors: f }).buffer);
        expect(Array.from(got16)).toEqual(Array.from(want16));
      }
    } finally {
      await pool.close();
    }
  });

  it('refuses what it cannot merge, with the reason', () => {
    const ok = { type: DataType.FLOAT, rows: 2, cols: 3, layout: 'rows-cols' as const, factors: [{ a: rand(3), b: rand(2), rank: 1, scale: 1 }] };
    expect(() => mergeLoraSync(new Uint8Array(24), { ...ok, type: DataType.INT8 })).toThrow(/INT8 cannot be merged/);
    expect(() => mergeLoraSync(new Uint8Array(20), ok)).toThrow(/the base has 20 bytes, FLOAT\[2×3\] needs 24/);
    expect(() => mergeLoraSync(new Uint8Array(24), { ...ok, factors: [{ a: rand(4), b: rand(2), rank: 1, scale: 1 }] })).toThrow(/A must be a Float32Array of 1×3/);
    expect(() => mergeLoraSync(new Uint8Array(24), { ...ok, factors: [{ a: rand(3), b: rand(2), rank: 1, scale: NaN }] })).toThrow(/scale is NaN/);
    expect(() => mergeLoraSync(new Uint8Array(24), { ...ok, layout: 'diagonal' as never })).toThrow(/layout must be/);
  });
});
