#!/usr/bin/env node
// Exercises the addon's CUDA half on a real GPU with plain `node` (no test runner, no TensorRT needed):
// allocation, sync and async copies, pinned memory, streams, events, dispose rules, GC finalization, 10k
// create/upload/dispose cycles with RSS and cudaMemGetInfo before and after, throughput pageable vs pinned, and a
// worker thread. Prints one line per check and a JSON summary; exits 1 if any check failed.
//
//   node --expose-gc scripts/device-check.mjs [--addon <path>] [--bandwidth <path to the C++ baseline binary>]
//
// The addon comes from --addon, TRT_REFIT_NATIVE_ADDON, or the package's build folder.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { DeviceWeightsStreamer, diagnoseNativeBackend, loadBinding, loadNativeDevice } from '@trt-refit/native-backend';
import { assert, check, failures, results } from './checks.mjs';

const { values: args } = parseArgs({ options: { addon: { type: 'string' }, bandwidth: { type: 'string' }, cycles: { type: 'string', default: '10000' } } });

function pattern(n, seed) {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 31 + seed) & 0xff;
  return a;
}

function equal(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return x.equals(y);
}

const gb = (bytes, ms) => +(bytes / (ms / 1000) / 1e9).toFixed(2);
const mib = (b) => +(b / 2 ** 20).toFixed(1);

const loaded = loadBinding(args.addon);
if (!loaded.ok) {
  console.log(JSON.stringify({ error: 'addon not found', attempts: loaded.attempts }));
  process.exit(1);
}
const binding = loaded.binding;
console.log(`addon ${loaded.path}`);
console.log(`build ${JSON.stringify(binding.info)}`);
console.log(`cuda  ${JSON.stringify(binding.cuda.status())}`);
const device = loadNativeDevice({ binding });
const props = device.deviceProperties();
console.log(`device ${JSON.stringify(props)}`);

await check('allocate, sync upload at an offset, sync download', () => {
  const buf = device.allocate(1 << 20);
  const src = pattern(4096, 7);
  buf.upload(src, 12345);
  assert(equal(buf.download(new Uint8Array(4096), 12345), src), 'round trip');
  const whole = buf.download();
  assert(whole.byteLength === 1 << 20, 'download() without dst returns the whole buffer');
  buf.dispose();
});

await check('uploadAsync / downloadAsync on one stream keep call order (pageable, staged)', async () => {
  const stream = device.createStream();
  const buf = device.allocate(8 << 20);
  const a = pattern(8 << 20, 1);
  const b = pattern(8 << 20, 2);
  const p1 = buf.uploadAsync(a, stream);
  a.fill(0); // a staged pageable source may change once the call returned
  const d1 = buf.downloadAsync(stream, new Uint8Array(8 << 20));
  const p2 = buf.uploadAsync(b, stream);
  const d2 = buf.downloadAsync(stream, new Uint8Array(8 << 20));
  await Promise.all([p1, p2]);
  const [r1, r2] = await Promise.all([d1, d2]);
  assert(equal(r1, pattern(8 << 20, 1)), 'first download sees the first upload');
  assert(equal(r2, b), 'second download sees the second upload');
  await stream.synchronize();
  assert(stream.query() === true, 'stream idle after synchronize');
  buf.dispose();
  stream.dispose();
});

await check('pinned host memory: detected, async copies without staging', async () => {
  const stream = device.createStream();
  const pinned = device.allocatePinned(16 << 20);
  assert(device.isPinned(pinned), 'allocatePinned is pinned');
  assert(!device.isPinned(new Uint8Array(4096)), 'a plain Uint8Array is pageable');
  pinned.set(pattern(16 << 20, 3));
  const buf = device.allocate(16 << 20);
  await buf.uploadAsync(pinned, stream);
  const back = device.allocatePinned(16 << 20);
  await buf.downloadAsync(stream, back);
  assert(equal(back, pinned), 'pinned round trip');
  buf.dispose();
  stream.dispose();
  return { stagingBytesRetained: binding.cuda.stagingBytes() };
});

await check('large pageable async copies (over the 64 MiB staging limit) stay correct', async () => {
  const stream = device.createStream();
  const n = 96 << 20;
  const src = pattern(n, 9);
  const buf = device.allocate(n);
  await buf.uploadAsync(src, stream);
  const back = await buf.downloadAsync(stream);
  assert(equal(back, src), 'round trip');
  buf.dispose();
  stream.dispose();
});

await check('events: record, query, synchronize, elapsed time; streams wait on events', async () => {
  const s1 = device.createStream();
  const s2 = device.createStream();
  const buf = device.allocate(64 << 20);
  const src = device.allocatePinned(64 << 20);
  const dst = device.allocatePinned(64 << 20);
  const start = s1.recordEvent(true);
  const p = buf.uploadAsync(src, s1);
  const end = s1.recordEvent(true);
  s2.waitEvent(end);
  const d = buf.downloadAsync(s2, dst);
  await end.synchronize();
  assert(end.query(), 'event complete after synchronize');
  const ms = end.elapsedTime(start);
  assert(ms > 0, 'elapsed time positive');
  await Promise.all([p, d]);
  for (const x of [start, end, s1, s2, buf]) x.dispose();
  return { copy64MiBms: +ms.toFixed(3), gbPerS: gb(64 << 20, ms) };
});

await check('dispose is idempotent; use after dispose throws ERR_TRT_REFIT_DISPOSED', async () => {
  const buf = device.allocate(1024);
  const stream = device.createStream();
  buf.dispose();
  buf.dispose();
  let code;
  try {
    buf.upload(new Uint8Array(16));
  } catch (e) {
    code = e.code;
  }
  assert(code === 'ERR_TRT_REFIT_DISPOSED', `upload after dispose: ${code}`);
  const rejected = await buf.downloadAsync(stream).then(() => 'resolved', (e) => e.code);
  assert(rejected === 'ERR_TRT_REFIT_DISPOSED', `downloadAsync after dispose: ${rejected}`);
  stream.dispose();
  stream.dispose();
  const s = await stream.synchronize().then(() => 'resolved', (e) => e.code);
  assert(s === 'ERR_TRT_REFIT_DISPOSED', `synchronize after dispose: ${s}`);
  // The raw addon refuses it too (its own check, not only the TS wrapper's).
  const raw = binding.cuda.allocate(64);
  raw.dispose();
  raw.dispose();
  try {
    raw.upload(new Uint8Array(8));
    throw new Error('raw upload after dispose did not throw');
  } catch (e) {
    assert(e.code === 'ERR_TRT_REFIT_DISPOSED', `raw: ${e.code}`);
  }
});

await check('dispose during an async copy defers the free until the copy completes', async () => {
  const stream = device.createStream();
  const buf = device.allocate(64 << 20);
  const dst = new Uint8Array(64 << 20);
  const up = buf.uploadAsync(pattern(64 << 20, 5), stream);
  const down = buf.downloadAsync(stream, dst);
  buf.dispose();
  await Promise.all([up, down]);
  assert(equal(dst, pattern(64 << 20, 5)), 'data intact although disposed mid-flight');
  stream.dispose();
});

await check('bad arguments are refused by the addon itself, without crashing', () => {
  const raw = binding.cuda.allocate(16);
  const errors = [];
  for (const bad of [() => binding.cuda.allocate(-1), () => raw.upload('x'), () => raw.upload(new Uint8Array(17)), () => raw.download(new Uint8Array(8), 9), () => raw.uploadAsync(new Uint8Array(4), {}, 0)]) {
    try {
      bad();
      errors.push('no error');
    } catch (e) {
      errors.push(e.constructor.name);
    }
  }
  raw.dispose();
  assert(errors.join() === 'RangeError,TypeError,RangeError,RangeError,TypeError', errors.join());
  return { errors };
});

await check('an impossible allocation is a coded device error, not a crash', () => {
  try {
    device.allocate(2 ** 50);
  } catch (e) {
    assert(e.code === 'ERR_TRT_REFIT_DEVICE', e.code);
    return { message: e.message };
  }
  throw new Error('allocating 1 PiB succeeded');
});

await check('64 concurrent async round trips on 4 streams', async () => {
  const streams = Array.from({ length: 4 }, () => device.createStream());
  const jobs = Array.from({ length: 64 }, async (_, i) => {
    const s = streams[i % 4];
    const src = pattern(256 << 10, i);
    const buf = device.allocate(256 << 10);
    await buf.uploadAsync(src, s);
    const back = await buf.downloadAsync(s);
    buf.dispose();
    return equal(back, src);
  });
  const ok = await Promise.all(jobs);
  streams.forEach((s) => s.dispose());
  assert(ok.every(Boolean), `${ok.filter((x) => !x).length} corrupted`);
});

await check('unreferenced buffers are freed by the GC (finalizers return device memory)', async () => {
  if (typeof globalThis.gc !== 'function') return { skipped: 'run node with --expose-gc' };
  globalThis.gc();
  const before = device.memoryInfo().free;
  (() => {
    for (let i = 0; i < 32; i++) device.allocate(64 << 20); // 2 GiB, never disposed
  })();
  const during = device.memoryInfo().free;
  for (let i = 0; i < 10 && device.memoryInfo().free < before - (64 << 20); i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const after = device.memoryInfo().free;
  assert(before - during >= 2 * 2 ** 30 - (64 << 20), 'the 2 GiB were allocated');
  assert(after >= before - (64 << 20), `freed: before ${mib(before)} MiB, after ${mib(after)} MiB`);
  return { freeBeforeMiB: mib(before), freeWithBuffersMiB: mib(during), freeAfterGcMiB: mib(after) };
});

await check(`${args.cycles} create/upload/dispose cycles: host RSS and device memory stay flat`, async () => {
  const n = Number(args.cycles);
  const src = pattern(1 << 20, 11);
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const free0 = device.memoryInfo().free;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const b = device.allocate(1 << 20);
    b.upload(src);
    b.dispose();
  }
  const ms = performance.now() - t0;
  globalThis.gc?.();
  const rss1 = process.memoryUsage().rss;
  const free1 = device.memoryInfo().free;
  assert(Math.abs(free1 - free0) <= 4 << 20, `device memory drift ${mib(free0 - free1)} MiB`);
  assert(rss1 - rss0 < 64 << 20, `RSS grew ${mib(rss1 - rss0)} MiB`);
  return { cycles: n, ms: +ms.toFixed(0), usPerCycle: +((ms * 1000) / n).toFixed(1), rssBeforeMiB: mib(rss0), rssAfterMiB: mib(rss1), deviceFreeBeforeMiB: mib(free0), deviceFreeAfterMiB: mib(free1) };
});

await check('throughput, 256 MiB: pageable vs pinned, sync vs async (GB/s, best of 5)', async () => {
  const n = 256 << 20;
  const stream = device.createStream();
  const buf = device.allocate(n);
  const pageable = pattern(n, 1);
  const pinned = device.allocatePinned(n);
  pinned.set(pageable);
  const best = async (fn) => {
    let min = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await fn();
      min = Math.min(min, performance.now() - t);
    }
    return gb(n, min);
  };
  const out = {
    uploadSyncPageable: await best(() => buf.upload(pageable)),
    uploadSyncPinned: await best(() => buf.upload(pinned)),
    uploadAsyncPinned: await best(() => buf.uploadAsync(pinned, stream)),
    uploadAsyncPageable: await best(() => buf.uploadAsync(pageable, stream)),
    downloadSyncPageable: await best(() => buf.download(pageable)),
    downloadSyncPinned: await best(() => buf.download(pinned)),
    downloadAsyncPinned: await best(() => buf.downloadAsync(stream, pinned)),
    downloadAsyncPageable: await best(() => buf.downloadAsync(stream, pageable)),
  };
  const chunk = 32 << 20; // staged pageable path (≤ 64 MiB per call)
  const staged = await best(async () => {
    const ps = [];
    for (let off = 0; off < n; off += chunk) ps.push(buf.uploadAsync(pageable.subarray(off, off + chunk), stream, off));
    await Promise.all(ps);
  });
  out.uploadAsyncPageableStaged32MiB = staged;
  buf.dispose();
  stream.dispose();
  if (args.bandwidth) {
    out.cppBaseline = JSON.parse(execFileSync(args.bandwidth, [String(n)], { encoding: 'utf8' }));
  }
  return out;
});

await check('streaming 2 GiB of weights tensor by tensor (DeviceWeightsStreamer) keeps host memory near one tensor', async () => {
  const streamer = new DeviceWeightsStreamer(device);
  const tensorBytes = 32 << 20;
  const count = 64;
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const host = new Float32Array(tensorBytes / 4).fill(i); // as if just read from an external-data file
    const { weights } = await streamer.streamTo(`w${i}`, { type: 'FLOAT', values: host, count: tensorBytes / 4 });
    assert(weights.values.byteLength === tensorBytes, 'device buffer size');
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = performance.now() - t0;
  for (const i of [0, 31, 63]) {
    const first = new Float32Array(streamer.buffer(`w${i}`).download(new Uint8Array(4)).buffer)[0];
    assert(first === i, `w${i} holds ${first}`);
  }
  assert(streamer.bytes === count * tensorBytes, 'all on the device');
  streamer.dispose();
  assert(peak - rss0 < 1024 << 20, `host RSS grew ${mib(peak - rss0)} MiB while streaming 2 GiB`);
  return { streamedMiB: mib(count * tensorBytes), ms: +ms.toFixed(0), gbPerS: gb(count * tensorBytes, ms), peakRssGrowthMiB: mib(peak - rss0), stagingRetainedMiB: mib(binding.cuda.stagingBytes()) };
});

await check('the addon loads and allocates in a worker thread (per-environment state)', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const b = require(workerData);
    const buf = b.cuda.allocate(1024);
    const s = b.cuda.createStream();
    buf.uploadAsync(new Uint8Array(1024).fill(7), s).then(() => buf.downloadAsync(new Uint8Array(1024), s)).then(() => {
      const out = new Uint8Array(1024); buf.download(out); buf.dispose(); s.dispose();
      parentPort.postMessage(out[1023]);
    }, (e) => parentPort.postMessage(String(e)));`;
  const w = new Worker(code, { eval: true, workerData: loaded.path });
  const value = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert(value === 7, `worker got ${value}`);
});

await check('diagnosis on this machine (TensorRT is not installed here)', () => {
  const d = diagnoseNativeBackend({ binding });
  return { reasons: d.reasons, notes: d.notes, device: d.device?.name };
});

const summary = { ok: failures() === 0, failed: failures(), device: props, cuda: binding.cuda.status(), node: process.version, results };
console.log(`SUMMARY ${JSON.stringify(summary)}`);
process.exitCode = failures() ? 1 : 0;
