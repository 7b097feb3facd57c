// lora-merge: W' = W + s·B·A for one LoRA target the size of a 7B model's attention projection (FLOAT
// [4096, 4096], rank 16), into a new buffer (the base kept), in GFLOP/s of the update (2·rows·cols·rank).
//   ours:     @trt-refit/onnx's LoraMergePool.merge (WebAssembly SIMD rows on worker threads; what LoraRefitter uses)
//   baseline: a plain triple loop in JS (what a user writes), on a quarter of the rows, scaled (it is slow)
//   limit:    the peer: onnxruntime-node (MLAS) running MatMul(s·B, A) + W on the same shapes, same threads
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { DataType } from '@trt-refit/core';
import { LoraMergePool, mergeLoraSync, writeOnnxModel } from '@trt-refit/onnx';
import { alternate, figures } from '../lib.mjs';

const rows = 4096;
const cols = 4096;
const rank = 16;
const scale = 0.5;

function random(n, seed) {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = x / 4294967296 - 0.5;
  }
  return a;
}

export default {
  name: 'lora-merge',
  async run({ runs }) {
    const threads = Math.min(availableParallelism(), 8);
    const W = random(rows * cols, 1);
    const A = random(rank * cols, 2);
    const B = random(rows * rank, 3);
    const base = new Uint8Array(W.buffer);
    const spec = { type: DataType.FLOAT, rows, cols, layout: 'rows-cols', factors: [{ a: A, b: B, rank, scale }] };
    const pool = new LoraMergePool(threads);
    const part = rows / 4;
    const triple = () => {
      const out = new Float32Array(part * cols);
      for (let i = 0; i < part; i++)
        for (let j = 0; j < cols; j++) {
          let s = 0;
          for (let k = 0; k < rank; k++) s += B[i * rank + k] * A[k * cols + j];
          out[i * cols + j] = W[i * cols + j] + scale * s;
        }
      return out;
    };
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'MatMul', inputs: ['b', 'a'], outputs: ['d'] },
        { opType: 'Add', inputs: ['w', 'd'], outputs: ['y'] },
      ],
      inputs: [
        { name: 'b', elemType: 1, dims: [rows, rank] },
        { name: 'a', elemType: 1, dims: [rank, cols] },
        { name: 'w', elemType: 1, dims: [rows, cols] },
      ],
      outputs: [{ name: 'y', elemType: 1, dims: [rows, cols] }],
    });
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const feeds = { b: new ort.Tensor('float32', B.map((v) => v * scale), [rows, rank]), a: new ort.Tensor('float32', A, [rank, cols]), w: new ort.Tensor('float32', W, [rows, cols]) };
    // The three agree (ours against the peer, within float32 rounding of another summation order).
    const ours = new Float32Array((await pool.merge(base, spec)).buffer);
    const peer = (await session.run(feeds)).y.data;
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - peer[i]) / Math.max(1, Math.abs(peer[i])));
    if (maxDiff > 1e-5) throw new Error(`ours and onnxruntime differ by ${maxDiff}`);
    const timed = await alternate({ ours: () => pool.merge(base, spec), baseline: triple, limit: () => session.run(feeds), sync: () => mergeLoraSync(base, spec) }, runs);
    timed.baseline = { median: timed.baseline.median * 4, min: timed.baseline.min * 4, max: timed.baseline.max * 4 }; // a quarter of the rows
    const flops = 2 * rows * cols * rank;
    const f = figures(timed, { flops });
    await pool.close();
    return {
      ...f,
      baselineName: 'triple loop (JS)',
      limitName: `onnxruntime-node MatMul + Add (${threads} threads)`,
      shape: `[${rows}, ${cols}] rank ${rank}`,
      threads,
      oursMs: timed.ours.median * 1e3,
      calleeThreadGFlops: flops / timed.sync.median / 1e9,
      maxRelDiffToPeer: maxDiff,
      target: 'ratioToLimit >= 0.5',
      met: f.ratioToLimit >= 0.5,
    };
  },
};

// lora-swap-2g: the CPU side of a swap on a 2 GiB model, TensorRT's refit excluded — 64 FLOAT weights of
// [4096, 2048] (32 MiB each), a rank-16 adapter on every one, each merged from its base into new memory (as
// LoraRefitter does before setting it). Beside it: copying the same 2 GiB (Buffer.copy into new memory), the floor
// of any swap that produces new weights on the host. BENCHMARKS.md puts it beside the device merge on the H200.
export const loraSwap = {
  name: 'lora-swap-2g',
  async run({ runs }) {
    const threads = Math.min(availableParallelism(), 8);
    const [r, c, n, k] = [4096, 2048, 64, 16];
    const W = random(r * c, 11);
    const base = new Uint8Array(W.buffer);
    const factors = [{ a: random(k * c, 12), b: random(r * k, 13), rank: k, scale: 0.5 }];
    const spec = { type: DataType.FLOAT, rows: r, cols: c, layout: 'rows-cols', factors };
    const pool = new LoraMergePool(threads);
    const swap = async () => {
      for (let i = 0; i < n; i++) await pool.merge(base, spec);
    };
    const copy = () => {
      const src = Buffer.from(base.buffer);
      for (let i = 0; i < n; i++) src.copy(Buffer.allocUnsafeSlow(base.byteLength));
    };
    const timed = await alternate({ ours: swap, limit: copy }, Math.min(runs, 5));
    await pool.close();
    const f = figures(timed, { bytes: n * base.byteLength });
    return { ...f, limitName: 'Buffer.copy of the same bytes into new memory', oursMs: timed.ours.median * 1e3, limitMs: timed.limit.median * 1e3, weights: n, shape: `[${r}, ${c}] rank ${k}`, threads };
  },
};
