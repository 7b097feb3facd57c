import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DataType, InvalidArgumentError, TrtRefitError, TrtRefitErrorCode } from '@trt-refit/core';

/** One adapter's factors for one weight: W += scale · b · a, with b [rows, rank] and a [rank, cols] (float32). */
export interface LoraFactor {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly rank: number;
  /** The whole factor: the user's scale × alpha / rank. */
  readonly scale: number;
}

/**
 * How the weight is stored: `rows-cols` as the module has it ([out, in], or [out, in·kh·kw] for a conv), or
 * `cols-rows` transposed ([in, out], as exporters store a Linear's weight for MatMul).
 */
export type LoraLayout = 'rows-cols' | 'cols-rows';

/** A merge: the weight's element type, its 2-D shape as the module sees it, its layout, the factors. */
export interface LoraMergeSpec {
  /** FLOAT, HALF or BF16: the base is read in it and the result written in it, rounded once. */
  readonly type: DataType;
  readonly rows: number;
  readonly cols: number;
  readonly layout: LoraLayout;
  readonly factors: readonly LoraFactor[];
}

const TYPE_CODE: Partial<Record<DataType, number>> = { [DataType.FLOAT]: 0, [DataType.HALF]: 1, [DataType.BF16]: 2 };

// The multiply-add at the heart of a merge, in WebAssembly SIMD (hand-encoded below: 4 lanes of float32, four
// rank components per pass): fma4(acc, r0, n, stride, l0, l1, l2, l3) does acc[j] += l0·r0[j] + l1·r1[j] + l2·r2[j]
// + l3·r3[j] for j < n (n a multiple of 4; rk = r0 + k·stride bytes), in float32 as a float32 GEMM would.
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const name = (s: string): number[] => [...leb(s.length), ...Buffer.from(s)];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
function fma4Module(): Uint8Array {
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number) => [0xfd, ...leb(op)];
  const load = [...simd(0x00), 4, 0];
  const store = [...simd(0x0b), 4, 0];
  const [splat, add, mul] = [simd(0x13), simd(0xe4), simd(0xe6)];
  const bump = (i: number) => [...get(i), 0x41, 16, 0x6a, ...set(i)]; // local i += 16
  // params 0 acc, 1 r0, 2 n, 3 stride, 4..7 l0..l3; locals 8..11 splats (v128), 12..14 r1..r3, 15 end (i32)
  const body = [
    ...[4, 5, 6, 7].flatMap((p) => [...get(p), ...splat, ...set(p + 4)]),
    ...get(1), ...get(3), 0x6a, ...set(12), ...get(12), ...get(3), 0x6a, ...set(13), ...get(13), ...get(3), 0x6a, ...set(14),
    ...get(0), ...get(2), 0x41, 2, 0x74, 0x6a, ...set(15), // end = acc + n·4
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(0), ...get(0), ...load,
    ...get(1), ...load, ...get(8), ...mul,
    ...get(12), ...load, ...get(9), ...mul, ...add,
    ...get(13), ...load, ...get(10), ...mul, ...add,
    ...get(14), ...load, ...get(11), ...mul, ...add,
    ...add, ...store,
    ...bump(0), ...bump(1), ...bump(12), ...bump(13), ...bump(14),
    ...get(0), ...get(15), 0x49, 0x0d, 0, // br_if acc < end
    0x0b, 0x0b, 0x0b, // end loop, block, function
  ];
  const code = [...vec([[4, V128], [4, I32]]), ...body];
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, ...vec([I32, I32, I32, I32, F32, F32, F32, F32].map((x) => [x])), 0]])),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 1]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('fma4'), 0x00, 0]])),
    ...section(10, vec([[...leb(code.length), ...code]])),
  ]);
}
// WebAssembly is a global of Node.js; this project's TypeScript libs (ES2022, no DOM) do not declare it.
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object };
const FMA4 = new WebAssembly.Module(fma4Module());

// The row loop, as source: run on the main thread (through `new Function`) and in the pool's workers, so both are
// the same code. Rows m0..m1 of W[m, n] (float32 or 16-bit patterns) = base + L[m, R] · Rm[R, n] (R a multiple of
// 4, zero-padded): the base row is converted to float32 into the accumulator in WebAssembly memory, the rank
// components are added four at a time by fma4, and the row is written back rounded once to the type (HALF and
// BF16: round to nearest even, as PyTorch's `(W.float() + s·B@A).to(dtype)`). No allocation per row or element.
const KERNEL_SOURCE = `
function loraRows(base, out, type, m0, m1, n, R, L, Rm, module) {
  const nPad = (n + 3) & ~3;
  const stride = nPad * 4;
  const accBytes = stride;
  const need = accBytes + R * stride;
  const mem = new WebAssembly.Memory({ initial: Math.ceil(need / 65536) || 1 });
  const fma4 = new WebAssembly.Instance(module, { env: { mem } }).exports.fma4;
  const acc = new Float32Array(mem.buffer, 0, nPad);
  const rm = new Float32Array(mem.buffer, accBytes, R * nPad);
  for (let k = 0; k < R; k++) rm.set(Rm.subarray(k * n, k * n + n), k * nPad);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let h2f = null;
  if (type === 1) {
    h2f = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const e = (h >> 10) & 31;
      const m = h & 1023;
      const v = e === 0 ? m * 5.960464477539063e-8 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * Math.pow(2, e - 15);
      h2f[h] = h & 0x8000 ? -v : v;
    }
  }
  for (let i = m0; i < m1; i++) {
    const row = i * n;
    if (type === 0) acc.set(base.subarray(row, row + n));
    else if (type === 1) for (let j = 0; j < n; j++) acc[j] = h2f[base[row + j]];
    else for (let j = 0; j < n; j++) { u[0] = base[row + j] << 16; acc[j] = f[0]; }
    for (let k = 0; k < R; k += 4) {
      const b = i * R + k;
      const l0 = L[b], l1 = L[b + 1], l2 = L[b + 2], l3 = L[b + 3];
      if (l0 === 0 && l1 === 0 && l2 === 0 && l3 === 0) continue;
      fma4(0, accBytes + k * stride, nPad, stride, l0, l1, l2, l3);
    }
    if (type === 0) {
      out.set(acc.subarray(0, n), row);
    } else if (type === 1) {
      for (let j = 0; j < n; j++) {
        f[0] = acc[j];
        const x = u[0];
        const sign = (x >>> 16) & 0x8000;
        const exp = (x >>> 23) & 0xff;
        let mant = x & 0x7fffff;
        let r;
        if (exp === 0xff) r = sign | 0x7c00 | (mant ? 0x200 : 0);
        else {
          const e = exp - 112;
          if (e >= 31) r = sign | 0x7c00;
          else if (e <= 0) {
            if (e < -10) r = sign;
            else {
              mant |= 0x800000;
              const shift = 14 - e;
              const half = 1 << (shift - 1);
              const rest = mant & ((1 << shift) - 1);
              let q = mant >>> shift;
              if (rest > half || (rest === half && (q & 1))) q++;
              r = sign | q;
            }
          } else {
            let q = (e << 10) | (mant >>> 13);
            const rest = mant & 0x1fff;
            if (rest > 0x1000 || (rest === 0x1000 && (q & 1))) q++;
            r = sign | q;
          }
        }
        out[row + j] = r;
      }
    } else {
      for (let j = 0; j < n; j++) {
        f[0] = acc[j];
        const x = u[0];
        out[row + j] = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) ? ((x >>> 16) | 0x40) & 0xffff : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
      }
    }
  }
}
`;

type Kernel = (base: Float32Array | Uint16Array, out: Float32Array | Uint16Array, type: number, m0: number, m1: number, n: number, R: number, L: Float32Array, Rm: Float32Array, module: object) => void;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same source runs in the workers
const kernel = new Function(`${KERNEL_SOURCE}; return loraRows;`)() as Kernel;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
${KERNEL_SOURCE}
parentPort.on('message', (job) => {
  const T = job.type === 0 ? Float32Array : Uint16Array;
  const v = (x, C) => new C(x.sab, 0, x.byteLength / C.BYTES_PER_ELEMENT);
  loraRows(v(job.base, T), new T(job.out), job.type, job.m0, job.m1, job.n, job.R, v(job.L, Float32Array), v(job.Rm, Float32Array), job.module);
  parentPort.postMessage(job.id);
});
`;

/** The merge as a product L[m, R] · Rm[R, n] over the stored layout (m rows of n elements), factors pre-scaled. */
function operands(spec: LoraMergeSpec): { m: number; n: number; R: number; L: Float32Array; Rm: Float32Array } {
  const { rows, cols, layout, factors } = spec;
  const R = (factors.reduce((s, f) => s + f.rank, 0) + 3) & ~3; // zero-padded to whole passes of fma4
  const rowsCols = layout === 'rows-cols';
  const m = rowsCols ? rows : cols;
  const n = rowsCols ? cols : rows;
  const L = new Float32Array(m * R);
  const Rm = new Float32Array(R * n);
  let k0 = 0;
  for (const f of factors) {
    const r = f.rank;
    if (rowsCols) {
      // L = s·B [rows, r] in columns k0.., Rm = A [r, cols] in rows k0..
      for (let i = 0; i < rows; i++) for (let k = 0; k < r; k++) L[i * R + k0 + k] = f.scale * f.b[i * r + k]!;
      Rm.set(f.a, k0 * n);
    } else {
      // stored Wᵀ [cols, rows]: L = Aᵀ [cols, r] (scaled), Rm = Bᵀ [r, rows]
      for (let k = 0; k < r; k++) for (let j = 0; j < cols; j++) L[j * R + k0 + k] = f.scale * f.a[k * cols + j]!;
      for (let i = 0; i < rows; i++) for (let k = 0; k < r; k++) Rm[(k0 + k) * n + i] = f.b[i * r + k]!;
    }
    k0 += r;
  }
  return { m, n, R, L, Rm };
}

function checkSpec(base: Uint8Array, spec: LoraMergeSpec): number {
  const code = TYPE_CODE[spec.type];
  if (code === undefined) throw new InvalidArgumentError(`LoRA merge: weights of type ${String(spec.type)} cannot be merged (FLOAT, HALF or BF16 are needed)`);
  const { rows, cols } = spec;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows <= 0 || cols <= 0) throw new InvalidArgumentError(`LoRA merge: rows ${rows} and cols ${cols} must be positive integers`);
  if (spec.layout !== 'rows-cols' && spec.layout !== 'cols-rows') throw new InvalidArgumentError(`LoRA merge: layout must be rows-cols or cols-rows, got ${String(spec.layout)}`);
  const size = code === 0 ? 4 : 2;
  if (base.byteLength !== rows * cols * size) throw new InvalidArgumentError(`LoRA merge: the base has ${base.byteLength} bytes, ${spec.type}[${rows}×${cols}] needs ${rows * cols * size}`);
  for (const [i, f] of spec.factors.entries()) {
    if (!Number.isSafeInteger(f.rank) || f.rank <= 0) throw new InvalidArgumentError(`LoRA merge: factor ${i} has rank ${f.rank}`);
    if (!(f.a instanceof Float32Array) || f.a.length !== f.rank * cols) throw new InvalidArgumentError(`LoRA merge: factor ${i}'s A must be a Float32Array of ${f.rank}×${cols}, got ${f.a?.length}`);
    if (!(f.b instanceof Float32Array) || f.b.length !== rows * f.rank) throw new InvalidArgumentError(`LoRA merge: factor ${i}'s B must be a Float32Array of ${rows}×${f.rank}, got ${f.b?.length}`);
    if (!Number.isFinite(f.scale)) throw new InvalidArgumentError(`LoRA merge: factor ${i}'s scale is ${f.scale}`);
  }
  return code;
}

const aligned = (bytes: Uint8Array, size: number) => (bytes.byteOffset % size === 0 ? bytes : bytes.slice());
const view = (bytes: Uint8Array, code: number) => (code === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));

/**
 * W' = W + Σ scaleᵢ · Bᵢ · Aᵢ on the calling thread: `base` (the weight's little-endian bytes in `spec.type`, in
 * `spec.layout`) is read, never written; the result goes to `into` (same size) or a new buffer. Computed in float32
 * from the base (WebAssembly SIMD, four lanes) and, for HALF/BF16, rounded once to the type at the end, so merging
 * never accumulates error across swaps (each starts from the base).
 * @throws InvalidArgumentError for a type other than FLOAT/HALF/BF16, sizes that disagree, a non-finite scale.
 */
export function mergeLoraSync(base: Uint8Array, spec: LoraMergeSpec, into?: Uint8Array): Uint8Array {
  const code = checkSpec(base, spec);
  const out = into ?? new Uint8Array(base.byteLength);
  if (out.byteLength !== base.byteLength) throw new InvalidArgumentError(`LoRA merge: into has ${out.byteLength} bytes, the weight ${base.byteLength}`);
  if (!spec.factors.length) {
    out.set(base);
    return out;
  }
  const size = code === 0 ? 4 : 2;
  const o = operands(spec);
  const target = out.byteOffset % size === 0 ? out : new Uint8Array(out.byteLength);
  kernel(view(aligned(base, size), code), view(target, code), code, 0, o.m, o.n, o.R, o.L, o.Rm, FMA4);
  if (target !== out) out.set(target);
  return out;
}

/**
 * Worker threads for merges: rows are split among them, over shared memory (the base and the factors are copied
 * into it once, the result is written there and returned as a view of it: no copy back). Small merges (under 4M
 * multiply-adds) run on the calling thread. Close it when done ({@link LoraMergePool.close}); its workers do not
 * keep the process alive.
 */
export class LoraMergePool {
  readonly threads: number;
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #next = 0;
  #closed = false;

  /** @param threads workers (default: the machine's parallelism, at most 8); 0 merges on the calling thread. */
  constructor(threads = Math.min(availableParallelism(), 8)) {
    if (!Number.isSafeInteger(threads) || threads < 0 || threads > 256) throw new InvalidArgumentError(`LoraMergePool: threads must be an integer from 0 to 256, got ${threads}`);
    this.threads = threads;
  }

  #worker(i: number): Worker {
    let w = this.#workers[i];
    if (!w) {
      w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on('message', (id: number) => {
        const done = this.#pending.get(id);
        this.#pending.delete(id);
        done?.resolve();
      });
      // A worker that fails (out of memory, killed) fails every merge in flight rather than leaving it waiting.
      const fail = (e: Error) => {
        if (this.#workers[i] === w) this.#workers[i] = undefined as unknown as Worker;
        for (const [id, p] of this.#pending) (this.#pending.delete(id), p.reject(new TrtRefitError(TrtRefitErrorCode.INVALID_STATE, `LoraMergePool: a worker failed: ${e.message}`, {}, { cause: e })));
      };
      w.on('error', fail);
      w.on('exit', (code) => code !== 0 && !this.#closed && fail(new Error(`exited with code ${code}`)));
      this.#workers[i] = w;
    }
    return w;
  }

  readonly #shared = new Map<string, SharedArrayBuffer>();
  #staging(key: string, bytes: Uint8Array): { sab: SharedArrayBuffer; byteLength: number } {
    let sab = this.#shared.get(key);
    if (!sab || sab.byteLength < bytes.byteLength) this.#shared.set(key, (sab = new SharedArrayBuffer(bytes.byteLength)));
    new Uint8Array(sab, 0, bytes.byteLength).set(bytes);
    return { sab, byteLength: bytes.byteLength };
  }

  /** {@link mergeLoraSync} on the pool's workers; resolves to the merged bytes (a view of shared memory). */
  merge(base: Uint8Array, spec: LoraMergeSpec): Promise<Uint8Array> {
    // One merge at a time: they share the pool's staging (and each already uses every worker).
    const run = this.#queue.then(() => this.#merge(base, spec));
    this.#queue = run.catch(() => undefined);
    return run;
  }
  #queue: Promise<unknown> = Promise.resolve();

  async #merge(base: Uint8Array, spec: LoraMergeSpec): Promise<Uint8Array> {
    if (this.#closed) throw new TrtRefitError(TrtRefitErrorCode.DISPOSED, 'LoraMergePool: merge() after close()');
    const code = checkSpec(base, spec);
    const R = spec.factors.reduce((s, f) => s + f.rank, 0);
    if (this.threads === 0 || !spec.factors.length || spec.rows * spec.cols * R < 4_000_000) return mergeLoraSync(base, spec);
    const o = operands(spec);
    // The inputs go to shared staging the pool keeps (grown as needed, so warm after the first merge); the result
    // needs memory of its own, as the caller keeps it (a refitter holds weights by reference until its refit).
    const baseSab = this.#staging('base', base);
    const L = this.#staging('L', new Uint8Array(o.L.buffer));
    const Rm = this.#staging('Rm', new Uint8Array(o.Rm.buffer));
    const outSab = new SharedArrayBuffer(base.byteLength);
    const parts = Math.min(this.threads, o.m);
    const jobs: Promise<void>[] = [];
    for (let p = 0; p < parts; p++) {
      const m0 = Math.floor((o.m * p) / parts);
      const m1 = Math.floor((o.m * (p + 1)) / parts);
      const id = this.#next++;
      jobs.push(new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject })));
      this.#worker(p).postMessage({ id, base: baseSab, out: outSab, type: code, m0, m1, n: o.n, R: o.R, L, Rm, module: FMA4 });
    }
    await Promise.all(jobs);
    return new Uint8Array(outSab);
  }

  /** Terminates the workers. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const ws = this.#workers.splice(0);
    await Promise.all(ws.map((w) => w?.terminate()));
  }
}
