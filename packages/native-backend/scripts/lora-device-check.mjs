#!/usr/bin/env node
// The LoRA merge on a real GPU (issue 18, item 5), TensorRT aside. Bundled for plain node with
// `pnpm --filter @trt-refit/native-backend run bundle:lora-device-check` (→ .tmp/lora-device/lora-device-check.mjs),
// run beside the addon:
//
//   node lora-device-check.mjs --addon trt_refit_native.node --out DIR [--bench-weights 64] [--runs 7]
//
// 1. verify: random base weights and adapters (FLOAT, HALF, BF16; rows-cols and cols-rows; a Linear and a 3×3 conv
//    shape; 1 and 2 adapters, the two merged as one concatenated GEMM and as two GEMMs on the device) merged with
//    NativeDeviceApi.loraMerge; every input and result written to DIR (manifest.json + .bin files), which
//    scripts/lora_reference.py compares with PyTorch's merge of the same data.
// 2. bench: a 2 GiB model (64 FLOAT weights of 4096 × 2048, rank-16 adapters on every weight) swapped on the device:
//    the merges into resident output buffers (factors already on the device, and through DeviceLoraMerger from host
//    factors), beside cudaMemcpyAsync of the same bytes device-to-device and host(pinned)-to-device; median of
//    --runs, CUDA events and wall clock. Then the same with HALF weights (1 GiB).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataType } from '@trt-refit/core';
import { DeviceLoraMerger, concatLoraFactors, loadNativeDevice } from '@trt-refit/native-backend';
import { floatToBf16 as toBf16Bits, floatToHalf as toHalfBits } from '@trt-refit/onnx';

const { values: args } = parseArgs({
  options: {
    addon: { type: 'string' },
    out: { type: 'string', default: 'lora-out' },
    'bench-weights': { type: 'string', default: '64' },
    runs: { type: 'string', default: '7' },
    skip: { type: 'string', default: '' },
  },
});
const device = loadNativeDevice(args.addon ? { addonPath: args.addon } : {});
const props = device.deviceProperties();
console.log(`device: ${props.name} (cc ${props.computeCapability}), cuBLAS: ${JSON.stringify(device.loraStatus())}`);

// ------------------------------------------------------------------------------------------------ helpers
let seed = 12345;
function rand(n, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u1 = (seed + 1) / 4294967297;
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u2 = seed / 4294967296;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * scale; // normal(0, scale)
  }
  return out;
}
/** W [rows, cols] (FP32, logical) stored in `layout` and `type`. */
function store(w, rows, cols, layout, type) {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[layout === 'rows-cols' ? i * cols + j : j * rows + i] = w[i * cols + j];
  if (type === DataType.FLOAT) return new Uint8Array(t.buffer);
  return new Uint8Array(Uint16Array.from(t, type === DataType.HALF ? toHalfBits : toBf16Bits).buffer);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ------------------------------------------------------------------------------------------------ 1. verify
const outDir = args.out;
mkdirSync(outDir, { recursive: true });
const stream = device.createStream();
const manifest = [];
if (!args.skip.includes('verify')) {
  const shapes = [
    { shape: 'linear', rows: 384, cols: 256, dims: [384, 256] },
    { shape: 'conv3x3', rows: 64, cols: 32 * 9, dims: [64, 32, 3, 3] },
  ];
  let id = 0;
  for (const type of [DataType.FLOAT, DataType.HALF, DataType.BF16]) {
    for (const layout of ['rows-cols', 'cols-rows']) {
      for (const s of shapes) {
        if (s.shape === 'conv3x3' && layout === 'cols-rows') continue; // conv weights are stored [out, in, kh, kw]
        for (const adapters of [1, 2]) {
          const { rows, cols } = s;
          const w = rand(rows * cols, 0.05);
          const factors = [];
          for (let k = 0; k < adapters; k++) {
            const rank = k === 0 ? 8 : 4;
            factors.push({ a: rand(rank * cols, 0.1), b: rand(rows * rank, 0.1), rank, scale: k === 0 ? 2.0 : -0.75 });
          }
          const baseBytes = store(w, rows, cols, layout, type);
          const base = device.fromHost(baseBytes);
          const variants = adapters === 1 ? { single: [factors[0]] } : { concat: [concatLoraFactors(factors, rows, cols)], twoGemms: factors };
          const tag = `c${id++}`;
          writeFileSync(join(outDir, `${tag}-base.bin`), baseBytes);
          factors.forEach((f, k) => {
            writeFileSync(join(outDir, `${tag}-a${k}.bin`), new Uint8Array(f.a.buffer));
            writeFileSync(join(outDir, `${tag}-b${k}.bin`), new Uint8Array(f.b.buffer));
          });
          const results = {};
          for (const [name, fs] of Object.entries(variants)) {
            const out = device.allocate(baseBytes.byteLength);
            const dev = fs.map((f) => ({ a: device.fromHost(f.a), b: device.fromHost(f.b), rank: f.rank, scale: f.scale }));
            await device.loraMerge({ base, out, type, rows, cols, layout, factors: dev, stream });
            writeFileSync(join(outDir, `${tag}-${name}.bin`), out.download());
            results[name] = `${tag}-${name}.bin`;
            out.dispose();
            for (const d of dev) (d.a.dispose(), d.b.dispose());
          }
          const unchanged = Buffer.compare(Buffer.from(base.download()), Buffer.from(baseBytes)) === 0;
          base.dispose();
          manifest.push({ tag, type, layout, shape: s.shape, dims: s.dims, rows, cols, adapters, ranks: factors.map((f) => f.rank), scales: factors.map((f) => f.scale), results, baseUnchanged: unchanged });
        }
      }
    }
  }
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  console.log(`verify: ${manifest.length} cases written to ${outDir} (base never modified: ${manifest.every((m) => m.baseUnchanged)})`);
}

// ------------------------------------------------------------------------------------------------ 2. bench
async function timed(fn) {
  const start = stream.recordEvent(true);
  const t0 = performance.now();
  await fn();
  const end = stream.recordEvent(true);
  await end.synchronize();
  const wall = performance.now() - t0;
  const gpu = end.elapsedTime(start);
  start.dispose();
  end.dispose();
  return { gpu, wall };
}

async function bench(type) {
  const n = Number(args['bench-weights']);
  const rows = 4096, cols = 2048, rank = 16;
  const es = type === DataType.FLOAT ? 4 : 2;
  const bytes = rows * cols * es;
  const host = store(rand(rows * cols, 0.05), rows, cols, 'rows-cols', type);
  const bases = [], outs = [], facs = [], hostFacs = [];
  for (let i = 0; i < n; i++) {
    const b = device.allocate(bytes);
    b.upload(host);
    bases.push(b);
    outs.push(device.allocate(bytes));
  }
  for (let i = 0; i < n; i++) {
    const f = { a: rand(rank * cols, 0.1), b: rand(rows * rank, 0.1), rank, scale: 2 };
    hostFacs.push(f);
    facs.push({ a: device.fromHost(f.a), b: device.fromHost(f.b), rank, scale: f.scale });
  }
  const workspace = type === DataType.FLOAT ? undefined : device.allocate(rows * cols * 4);
  const merger = new DeviceLoraMerger(device);
  for (let i = 0; i < n; i++) merger.setBase(`w${i}`, { type, rows, cols, values: host });
  const pinned = device.allocatePinned(bytes);
  pinned.set(host);
  const cases = {
    'merge, factors on device': () => Promise.all(bases.map((base, i) => device.loraMerge({ base, out: outs[i], type, rows, cols, factors: [facs[i]], stream, ...(workspace ? { workspace } : {}) }))),
    'merge, DeviceLoraMerger from host factors': () => Promise.all(hostFacs.map((f, i) => merger.merge(`w${i}`, [f], stream))),
    'cudaMemcpyAsync D2D (same bytes)': () => Promise.all(bases.map((base, i) => device.loraMerge({ base, out: outs[i], type, rows, cols, factors: [], stream }))),
    'cudaMemcpyAsync H2D from pinned (same bytes)': () => Promise.all(outs.map((o) => o.uploadAsync(pinned, stream))),
  };
  const total = bytes * n;
  console.log(`\nbench ${type}: ${n} weights of ${rows} x ${cols} (${(total / 2 ** 30).toFixed(2)} GiB), rank ${rank} on every weight, ${args.runs} runs after 1 warm-up`);
  const rowsOut = [];
  for (const [name, fn] of Object.entries(cases)) {
    await fn(); // warm-up (cuBLAS handle, kernel JIT, staging)
    const runs = [];
    for (let r = 0; r < Number(args.runs); r++) runs.push(await timed(fn));
    const gpu = median(runs.map((x) => x.gpu));
    const wall = median(runs.map((x) => x.wall));
    rowsOut.push({ case: name, gpuMs: +gpu.toFixed(3), wallMs: +wall.toFixed(3), 'GB/s (bytes written / gpu time)': +(total / 1e9 / (gpu / 1e3)).toFixed(1), gpuRuns: runs.map((x) => +x.gpu.toFixed(2)) });
  }
  console.table(rowsOut.map(({ gpuRuns, ...r }) => r));
  for (const r of rowsOut) console.log(`  ${r.case}: gpu ms per run ${r.gpuRuns.join(', ')}`);
  device.freePinned(pinned);
  merger.dispose();
  workspace?.dispose();
  for (const b of [...bases, ...outs]) b.dispose();
  for (const f of facs) (f.a.dispose(), f.b.dispose());
  return rowsOut;
}

if (!args.skip.includes('bench')) {
  const results = { FLOAT: await bench(DataType.FLOAT), HALF: await bench(DataType.HALF) };
  writeFileSync(join(outDir, 'bench.json'), JSON.stringify(results, null, 1));
}
stream.dispose();
console.log('\nlora-device-check: done');
