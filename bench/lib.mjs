// Shared helpers of the benchmark cases.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Median of `runs` timed runs of `fn` after one warm-up, in seconds. */
export async function medianSeconds(fn, runs = 5) {
  await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
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
 * Reads every byte of a view (as 32-bit words where the view is aligned, bytes otherwise) and returns a checksum,
 * so a lazy or zero-copy read is really paid for. Ours and the baseline use the same touch.
 */
export function touch(bytes) {
  let s = 0;
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  const n = Math.min(head, bytes.length);
  for (let i = 0; i < n; i++) s ^= bytes[i];
  const words = (bytes.length - n) >> 2;
  const w = new Int32Array(bytes.buffer, bytes.byteOffset + n, words);
  for (let i = 0; i < words; i++) s ^= w[i];
  for (let i = n + words * 4; i < bytes.length; i++) s ^= bytes[i];
  return s;
}

/** Deterministic filler: fast, not all zeros (so compression or sparse files cannot cheat). */
export function fill(bytes, seed = 1) {
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let s = seed >>> 0;
  for (let i = 0; i < u32.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    u32[i] = s >>> 0;
  }
  return bytes;
}

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;
