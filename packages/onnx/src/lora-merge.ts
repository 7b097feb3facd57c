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

// The kernel, as source: run on the main thread (through `new Function`) and in the pool's workers, so both are
// the same code. W[m, n] (row-major, float32 or 16-bit patterns) = base + L[m, R] · Rm[R, n], accumulated in double
// per element from the base, rounded once to float32 and, for HALF/BF16, to 16 bits (as a float32 merge converted
// to the engine's type: PyTorch's `(W.float() + s·B@A).to(dtype)`). Column blocks of 2048 keep the accumulator
// (16 KiB) in L1 and the block of Rm in L2; rows are the parallel axis. No allocation per element or row.
const KERNEL_SOURCE = `
function loraKernel(base, out, type, m0, m1, n, R, L, Rm, acc) {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const BLOCK = 2048;
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const w = Math.min(n, j0 + BLOCK) - j0;
    for (let i = m0; i < m1; i++) {
      const row = i * n + j0;
      if (type === 0) {
        for (let j = 0; j < w; j++) acc[j] = base[row + j];
      } else if (type === 1) {
        for (let j = 0; j < w; j++) {
          const h = base[row + j];
          const e = (h >> 10) & 31;
          const m = h & 1023;
          const v = e === 0 ? m * 5.960464477539063e-8 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * Math.pow(2, e - 15);
          acc[j] = h & 0x8000 ? -v : v;
        }
      } else {
        for (let j = 0; j < w; j++) {
          u[0] = base[row + j] << 16;
          acc[j] = f[0];
        }
      }
      let k = 0;
      for (; k + 8 <= R; k += 8) {
        const b = i * R + k;
        const l0 = L[b], l1 = L[b + 1], l2 = L[b + 2], l3 = L[b + 3], l4 = L[b + 4], l5 = L[b + 5], l6 = L[b + 6], l7 = L[b + 7];
        const o0 = k * n + j0, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n, o4 = o3 + n, o5 = o4 + n, o6 = o5 + n, o7 = o6 + n;
        for (let j = 0; j < w; j++) acc[j] += l0 * Rm[o0 + j] + l1 * Rm[o1 + j] + l2 * Rm[o2 + j] + l3 * Rm[o3 + j] + l4 * Rm[o4 + j] + l5 * Rm[o5 + j] + l6 * Rm[o6 + j] + l7 * Rm[o7 + j];
      }
      for (; k + 4 <= R; k += 4) {
        const l0 = L[i * R + k], l1 = L[i * R + k + 1], l2 = L[i * R + k + 2], l3 = L[i * R + k + 3];
        const o0 = k * n + j0, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        for (let j = 0; j < w; j++) acc[j] += l0 * Rm[o0 + j] + l1 * Rm[o1 + j] + l2 * Rm[o2 + j] + l3 * Rm[o3 + j];
      }
      for (; k < R; k++) {
        const l = L[i * R + k];
        const o = k * n + j0;
        for (let j = 0; j < w; j++) acc[j] += l * Rm[o + j];
      }
      if (type === 0) {
        for (let j = 0; j < w; j++) out[row + j] = acc[j];
      } else if (type === 1) {
        for (let j = 0; j < w; j++) {
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
        for (let j = 0; j < w; j++) {
          f[0] = acc[j];
          const x = u[0];
          out[row + j] = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) ? ((x >>> 16) | 0x40) & 0xffff : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
        }
      }
    }
  }
}
`;

type Kernel = (base: Float32Array | Uint16Array, out: Float32Array | Uint16Array, type: number, m0: number, m1: number, n: number, R: number, L: Float32Array, Rm: Float32Array, acc: Float64Array) => void;
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same source runs in the workers
const kernel = new Function(`${KERNEL_SOURCE}; return loraKernel;`)() as Kernel;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
${KERNEL_SOURCE}
parentPort.on('message', (job) => {
  const T = job.type === 0 ? Float32Array : Uint16Array;
  const base = new T(job.base);
  const out = new T(job.out);
  loraKernel(base, out, job.type, job.m0, job.m1, job.n, job.R, new Float32Array(job.L), new Float32Array(job.Rm), new Float64Array(2048));
  parentPort.postMessage(job.id);
});
`;

/** The merge as a product L[m, R] · Rm[R, n] over the stored layout (m rows of n elements), factors pre-scaled. */
function operands(spec: LoraMergeSpec): { m: number; n: number; R: number; L: Float32Array; Rm: Float32Array } {
  const { rows, cols, layout, factors } = spec;
  const R = factors.reduce((s, f) => s + f.rank, 0);
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
 * `spec.layout`) is read, never written; the result goes to `into` (same size) or a new buffer. Accumulated per
 * element from the base in double precision and rounded once to the type, so merging never accumulates error
 * across swaps (each starts from the base).
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
  kernel(view(aligned(base, size), code), view(target, code), code, 0, o.m, o.n, o.R, o.L, o.Rm, new Float64Array(2048));
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

  /** {@link mergeLoraSync} on the pool's workers; resolves to the merged bytes (a view of shared memory). */
  async merge(base: Uint8Array, spec: LoraMergeSpec): Promise<Uint8Array> {
    if (this.#closed) throw new TrtRefitError(TrtRefitErrorCode.DISPOSED, 'LoraMergePool: merge() after close()');
    const code = checkSpec(base, spec);
    const R = spec.factors.reduce((s, f) => s + f.rank, 0);
    if (this.threads === 0 || !spec.factors.length || spec.rows * spec.cols * R < 4_000_000) return mergeLoraSync(base, spec);
    const o = operands(spec);
    const share = (bytes: Uint8Array) => {
      const sab = new SharedArrayBuffer(bytes.byteLength);
      new Uint8Array(sab).set(bytes);
      return sab;
    };
    const baseSab = share(base);
    const outSab = new SharedArrayBuffer(base.byteLength);
    const L = share(new Uint8Array(o.L.buffer));
    const Rm = share(new Uint8Array(o.Rm.buffer));
    const parts = Math.min(this.threads, o.m);
    const jobs: Promise<void>[] = [];
    for (let p = 0; p < parts; p++) {
      const m0 = Math.floor((o.m * p) / parts);
      const m1 = Math.floor((o.m * (p + 1)) / parts);
      const id = this.#next++;
      jobs.push(new Promise<void>((resolve, reject) => this.#pending.set(id, { resolve, reject })));
      this.#worker(p).postMessage({ id, base: baseSab, out: outSab, type: code, m0, m1, n: o.n, R: o.R, L, Rm });
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
