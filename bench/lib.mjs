// Shared helpers of the benchmark cases.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Pause between a collection and the next timed call (see {@link alternate}). */
const SETTLE_MS = 100;

/**
 * Times the variants of one case alternately in this process: one warm-up of each, then `runs` rounds, each
 * running every variant once (the order rotates from round to round, so none always runs first or after the same
 * one). A collection is forced between calls, then a 100 ms pause, never inside a timed call; `before(name)`, when given, runs untimed
 * before each call. Returns each variant's times in seconds,
 * sorted, with median, min and max.
 */
export async function alternate(variants, runs = 7, { before } = {}) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) {
    await before?.(n);
    await variants[n]();
  }
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length];
      await before?.(n); // untimed preparation (e.g. flushing the page cache's dirty pages of the last write)
      globalThis.gc?.();
      // Let the memory the collection released go back to the system before the clock starts: a baseline that
      // allocated a fresh GiB leaves it to be unmapped by other threads, which would otherwise compete with the
      // next variant's threads (measured: reads ahead fell from ~8 to ~3 GB/s in such runs).
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const t0 = process.hrtime.bigint();
      await variants[n]();
      times[n].push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const t = times[n].sort((a, b) => a - b);
      return [n, { median: median(t), min: t[0], max: t[t.length - 1], times: t }];
    }),
  );
}

function median(sorted) {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/**
 * A case's result from {@link alternate}'s timings: `ours`, `baseline` and `limit` (any may be absent) in `unit`
 * (GB/s of `bytes`, or GFLOP/s of `flops`, when given, else ms), `ratio` = ours / baseline, `ratioToLimit` = ours / limit, and
 * `spread` = [min, max] of each in the same unit (for GB/s the slowest run gives the min).
 */
export function figures(timed, { bytes, flops } = {}) {
  const per = bytes ?? flops;
  const unit = bytes ? 'GB/s' : flops ? 'GFLOP/s' : 'ms';
  const val = (s) => (per ? per / s / 1e9 : s * 1e3);
  const out = { unit };
  const spread = {};
  for (const k of ['ours', 'baseline', 'limit']) {
    const t = timed[k];
    if (!t) continue;
    out[k] = val(t.median);
    spread[k] = per ? [val(t.max), val(t.min)] : [val(t.min), val(t.max)];
  }
  if (out.baseline !== undefined) out.ratio = out.ours / out.baseline;
  if (out.limit !== undefined) out.ratioToLimit = out.ours / out.limit;
  out.spread = spread;
  return out;
}

/** Reads a file with readSync in `chunk` steps into one reused buffer, calling `each(view)` per step. */
export function readSyncLoop(path, each, chunk = 4 * 2 ** 20, range = undefined) {
  const fd = openSync(path, 'r');
  try {
    const buf = scratch(chunk);
    const start = range?.offset ?? 0;
    const end = range ? start + range.length : fstatSync(fd).size;
    let s = 0;
    for (let o = start; o < end; ) {
      const n = readSync(fd, buf, 0, Math.min(chunk, end - o), o);
      if (n <= 0) throw new Error(`${path} ended early`);
      s += each(buf.subarray(0, n));
      o += n;
    }
    return s;
  } finally {
    closeSync(fd);
  }
}

const scratches = new Map();
function scratch(n) {
  let b = scratches.get(n);
  if (!b) scratches.set(n, (b = Buffer.allocUnsafeSlow(n)));
  return b;
}

/** A scratch folder removed at exit; refuses to start when the disk has less than `needBytes` free. */
export function scratchDir(needBytes = 0) {
  const base = process.env.TRT_REFIT_BENCH_DIR ?? tmpdir();
  const st = statfsSync(base);
  const free = st.bavail * st.bsize;
  if (free < needBytes) throw new Error(`benchmark needs ${(needBytes / 2 ** 30).toFixed(1)} GiB free in ${base}, has ${(free / 2 ** 30).toFixed(1)} GiB (set TRT_REFIT_BENCH_DIR)`);
  const dir = mkdtempSync(join(base, 'trt-refit-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Reads every byte of a view (as 64-bit words where aligned, bytes at the ends) and returns a checksum-like sum,
 * so a lazy or zero-copy read is really paid for. Ours and the baselines use the same touch.
 */
export function touch(bytes) {
  let s = 0;
  const head = Math.min((8 - (bytes.byteOffset & 7)) & 7, bytes.length);
  for (let i = 0; i < head; i++) s += bytes[i];
  const words = (bytes.length - head) >> 3;
  const w = new Float64Array(bytes.buffer, bytes.byteOffset + head, words);
  let f = 0;
  for (let i = 0; i < words; i++) f += w[i];
  for (let i = head + words * 8; i < bytes.length; i++) s += bytes[i];
  return s + (Number.isFinite(f) ? 0 : 1);
}

/**
 * Deterministic filler: fast, not all zeros (so compression or sparse files cannot cheat). Read as FLOAT, every
 * value is finite (bit 30 cleared: the exponent is never all ones), as refit weights validation requires.
 */
export function fill(bytes, seed = 1) {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let s = seed >>> 0;
  for (let i = 0; i < u32.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    u32[i] = (s & 0xbfffffff) >>> 0;
  }
  return bytes;
}

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

/**
 * A synthetic ONNX model of `totalBytes` of FLOAT weights in tensors of `tensorBytes` (default 4 MiB), written to
 * `dir`: a chain y_i = Add(y_{i-1}, w_i) over an input of one tensor's size, so every weight is a refittable constant
 * of an engine built from it. With `external`, the weights live in `<name>.data` (64-byte aligned). Returns the paths.
 */
export async function syntheticModel(dir, totalBytes, { external = false, tensorBytes = 4 * MiB, name = external ? 'ext.onnx' : 'emb.onnx' } = {}) {
  const { saveOnnxModel } = await import('@trt-refit/onnx');
  const n = Math.round(totalBytes / tensorBytes);
  const count = tensorBytes / 4;
  const initializers = [];
  const nodes = [];
  for (let i = 0; i < n; i++) {
    initializers.push({ name: `w${i}`, dataType: 1, dims: [count], raw: fill(new Uint8Array(tensorBytes), i + 1), external });
    nodes.push({ opType: 'Add', inputs: [i === 0 ? 'x' : `y${i - 1}`, `w${i}`], outputs: [`y${i}`] });
  }
  const path = join(dir, name);
  const saved = await saveOnnxModel(path, {
    nodes,
    initializers,
    inputs: [{ name: 'x', elemType: 1, dims: [count] }],
    outputs: [{ name: `y${n - 1}`, elemType: 1, dims: [count] }],
  });
  return { ...saved, tensors: n, bytes: n * tensorBytes };
}

/** Runs `script` (an ES module path) with `args` in a fresh Node process and returns the last line of its stdout as JSON. */
export function childJson(script, args = []) {
  const r = spawnSync(process.execPath, ['--expose-gc', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const line = r.stdout.toString().trim().split('\n').pop() ?? '';
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status ?? r.signal}: ${line}`);
  return JSON.parse(line);
}

/**
 * Peak resident memory of this process in bytes: VmHWM from /proc/self/status (Linux), which starts afresh at
 * exec. (`process.resourceUsage().maxRSS` does not: Linux carries the parent's high-water mark across fork + exec.)
 */
export function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}
