#!/usr/bin/env node
// On a CUDA machine (no TensorRT needed): the streaming refit path end to end, and refit-state cycles with device
// buffers and streams. Bundled with its dependencies into one file for the GPU machine (see the README).
//   1. A 2 GiB ONNX model with external data (64 × 32 MiB), and a 1 GiB model with the weights embedded
//      (opened lazily), refitted from the file by @trt-refit/onnx's OnnxParserRefitter with `streamTo` =
//      DeviceWeightsStreamer: every tensor goes file → one scratch buffer → device. Reports the process's peak RSS
//      (VmHWM; the models are written by a child process) against the weight bytes, throughput, and checks the
//      device contents against the file.
//   2. N cycles of: create a stream, allocate 1 MiB, uploadAsync on the stream, set it as DEVICE weights on a
//      refit state, plan the refit, unset, dispose buffer and stream. Host RSS and device memory before and after.
//
//   node --expose-gc stream-check.mjs [--addon <path>] [--cycles N] [--dir <folder for the models>]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataType, RefitState, TensorLocation, WeightsRole } from '@trt-refit/core';
import { OnnxParserRefitter } from '@trt-refit/onnx';
import { DeviceWeightsStreamer, loadBinding, loadNativeDevice } from '@trt-refit/native-backend';
import { assert, check, failures, results } from './checks.mjs';
import { TENSOR, tensorBytes, writeStreamModel } from './stream-models.mjs';

const { values: args } = parseArgs({ options: { addon: { type: 'string' }, cycles: { type: 'string', default: '10000' }, dir: { type: 'string' }, generate: { type: 'string' }, external: { type: 'boolean' }, tensors: { type: 'string' }, only: { type: 'string', default: 'ext,emb,cycles' } } });
const only = new Set(args.only.split(','));
const mib = (b) => +(b / 2 ** 20).toFixed(1);


if (args.generate) {
  // Child mode: write the model, then exit (its memory is not this check's).
  await writeStreamModel(args.generate, Number(args.tensors), args.external);
  process.exit(0);
}

const vmHWM = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

const loaded = loadBinding(args.addon);
if (!loaded.ok) {
  console.log(JSON.stringify({ error: 'addon not found', attempts: loaded.attempts }));
  process.exit(1);
}
const device = loadNativeDevice({ binding: loaded.binding });
console.log(`device ${JSON.stringify(device.deviceProperties())}`);
const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'trt-refit-stream-'));

/** A refitter over core's refit state for an engine whose weights are w0..w(n-1), all stripped. */
function refitterFor(n) {
  const weights = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, dtype: DataType.FLOAT, count: TENSOR / 4, dims: [TENSOR / 4], role: WeightsRole.CONSTANT, layer: `l${i}` }));
  const state = new RefitState({ weights, fusionGroups: [], stripped: weights.map((w) => w.name) });
  return new Proxy(state, { get: (t, p) => (p === 'dispose' ? () => {} : typeof t[p] === 'function' ? t[p].bind(t) : t[p]) });
}

for (const [label, n, external] of [['2 GiB, external data', 64, true], ['1 GiB, embedded (lazy open)', 32, false]]) {
  if (!only.has(external ? 'ext' : 'emb')) continue;
  await check(`streaming refit from the file to the device: ${label}`, async () => {
    const path = join(dir, external ? 'ext.onnx' : 'emb.onnx');
    const g = spawnSync(process.execPath, [process.argv[1], '--generate', path, '--tensors', String(n), ...(external ? ['--external'] : [])], { stdio: 'inherit' });
    assert(g.status === 0, 'the model was written');
    globalThis.gc?.();
    const rss0 = process.memoryUsage().rss;
    const hwm0 = vmHWM();
    const refitter = refitterFor(n);
    const streamer = new DeviceWeightsStreamer(device);
    const parserRefitter = new OnnxParserRefitter(refitter, undefined, { streamTo: streamer.streamTo });
    const t0 = performance.now();
    const ok = await parserRefitter.refitFromFile(path);
    const ms = performance.now() - t0;
    assert(ok, `refitFromFile: ${Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i).desc).join('; ')}`);
    assert(refitter.getMissingWeights().length === 0 && refitter.planRefit().ok, 'nothing missing');
    for (let i = 0; i < n; i++) assert(refitter.getWeightsLocation(`w${i}`) === TensorLocation.DEVICE, `w${i} on the device`);
    const hwm1 = vmHWM();
    // the device holds the file's bytes
    for (const i of [0, n >> 1, n - 1]) {
      const got = streamer.buffer(`w${i}`).download();
      assert(Buffer.from(got).equals(Buffer.from(tensorBytes(i))), `w${i} on the device equals the file`);
    }
    const bytes = n * TENSOR;
    streamer.dispose();
    rmSync(path, { force: true });
    rmSync(`${path}.data`, { force: true });
    return { weightsMiB: mib(bytes), ms: Math.round(ms), gbPerS: +(bytes / ms / 1e6).toFixed(2), rssBeforeMiB: mib(rss0), peakRssMiB: mib(hwm1), peakRssGrowthMiB: mib(hwm1 - Math.max(hwm0, rss0)), peakRssRatio: +(hwm1 / bytes).toFixed(3) };
  });
}

if (only.has('cycles')) await check(`cycles of stream + device buffer + set on a refit state + plan + dispose: RSS and device memory flat`, async () => {
  const n = Number(args.cycles);
  const state = new RefitState({ weights: [{ name: 'w', dtype: DataType.FLOAT, count: 1 << 18, dims: [1 << 18], role: WeightsRole.KERNEL, layer: 'l' }], fusionGroups: [], stripped: [] });
  const src = new Uint8Array(1 << 20).fill(1);
  const cycle = async () => {
    const stream = device.createStream();
    const buf = device.allocate(1 << 20);
    await buf.uploadAsync(src, stream);
    assert(state.setNamedWeights('w', { type: DataType.FLOAT, values: buf, count: 1 << 18 }, TensorLocation.DEVICE), 'set');
    assert(state.planRefit().ok, 'plan');
    assert(state.unsetNamedWeights('w'), 'unset');
    buf.dispose();
    await stream.synchronize();
    stream.dispose();
  };
  const settle = async () => {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    globalThis.gc?.();
    return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, free: device.memoryInfo().free };
  };
  for (let i = 0; i < 1000; i++) await cycle(); // warm-up: pools, JIT, allocator arenas
  // Three windows of n cycles: a leak grows in every window; warm-up effects only in the first.
  const marks = [await settle()];
  const times = [];
  for (let w = 0; w < 3; w++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await cycle();
    times.push(performance.now() - t0);
    marks.push(await settle());
  }
  const pct = (a, b) => +((100 * (b - a)) / a).toFixed(2);
  const windows = times.map((ms, w) => ({ cycles: n, usPerCycle: +((ms * 1000) / n).toFixed(1), rssMiB: [mib(marks[w].rss), mib(marks[w + 1].rss)], rssGrowthPct: pct(marks[w].rss, marks[w + 1].rss), heapUsedMiB: mib(marks[w + 1].heap), deviceFreeMiB: [mib(marks[w].free), mib(marks[w + 1].free)] }));
  const total = { rssGrowthPct: pct(marks[0].rss, marks[3].rss), deviceDriftMiB: mib(marks[0].free - marks[3].free) };
  assert(Math.abs(marks[3].free - marks[0].free) <= 0.01 * marks[0].free, `device memory drift ${total.deviceDriftMiB} MiB`);
  assert(windows[2].rssGrowthPct < 1, `RSS grew ${windows[2].rssGrowthPct} % in the last window`);
  return { windows, total };
});

console.log(`SUMMARY ${JSON.stringify({ ok: failures() === 0, failed: failures(), results })}`);
process.exit(failures() ? 1 : 0);
