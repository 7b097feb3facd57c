#!/usr/bin/env node
// File -> device streaming against the physical limit (issue 17, parts 3 and 4), on a CUDA machine (no TensorRT
// needed). One case per process, so each peak RSS (VmHWM) is the case's own; the models are written by a child.
//
//   ext  a 2 GiB ONNX model with external data (64 x 32 MiB), refitted from the file by @trt-refit/onnx's
//        OnnxParserRefitter with streamTo + staging of a DeviceWeightsStreamer on one GPU;
//   emb  the same weights embedded in the .onnx (opened lazily: raw_data read by positioned reads);
//   fan  ext fanned out to every GPU of --devices (one read, a copy to each GPU; the second rank's refit state gets
//        streamer.weightsFor(name, device));
//   tp   ext split along dim 0 over the GPUs of --devices (tensor parallelism: each GPU gets half of every tensor).
//
// Each case: the model is read once before timing (page cache warm), one warm-up refit, then --runs timed refits,
// each followed in the same process by one run of the C++ reference (scripts/stream-reference.cu: pread into two
// pinned buffers alternately, cudaMemcpyAsync overlapped with the next read) over the same file ranges and
// devices: ours and the reference alternate; with --reference-threads T > 1 a second reference run follows, whose
// reads are split over T threads (how fast the page cache can be read at all). Prints one JSON line per run and a
// SUMMARY line. An embedded model cannot reach 2 GiB (protobuf's limit, which onnx refuses): --gib 1.97 gives the
// largest (63 x 32 MiB).
//
//   node --expose-gc stream-bench.mjs --case ext|emb|fan|tp [--devices 0,1] [--runs 5] [--dir D] [--reference BIN]
//        [--addon PATH] [--gib 2] [--read-ahead N] [--reference-threads T]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataType, RefitState, TensorLocation, WeightsRole } from '@trt-refit/core';
import { OnnxParserRefitter, openOnnxModel } from '@trt-refit/onnx';
import { DeviceWeightsStreamer, dim0Shards, loadBinding, loadNativeDevice } from '@trt-refit/native-backend';
import { TENSOR, tensorBytes, writeStreamModel } from './stream-models.mjs';

const { values: args } = parseArgs({
  options: {
    case: { type: 'string', default: 'ext' },
    devices: { type: 'string', default: '0' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string' },
    reference: { type: 'string' },
    addon: { type: 'string' },
    gib: { type: 'string', default: '2' },
    generate: { type: 'string' },
    external: { type: 'boolean' },
    tensors: { type: 'string' },
    'read-ahead': { type: 'string' },
    'reference-threads': { type: 'string', default: '1' },
  },
});
const mib = (b) => +(b / 2 ** 20).toFixed(1);


if (args.generate) {
  // Child mode: write the model, then exit (its memory is not the bench's).
  await writeStreamModel(args.generate, Number(args.tensors), args.external);
  process.exit(0);
}

const vmHWM = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const vmRSS = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return +(s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2).toFixed(3);
};

// Where the host memory before streaming goes: resident bytes (RSS), and of them anonymous (heap, CUDA's host
// allocations) and the rest (pages of mapped files: node, libcuda, libcudart, the addon; and the driver's device
// mappings), at each stage up to the streamer's creation (/proc/self/smaps_rollup).
const rssStages = [];
const stage = (name) => {
  const roll = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(roll)?.[1] ?? NaN) * 1024;
  const rss = kb('Rss');
  const anon = kb('Anonymous');
  rssStages.push({ stage: name, rssMiB: mib(rss), anonMiB: mib(anon), otherMiB: mib(rss - anon), heapUsedMiB: mib(process.memoryUsage().heapUsed) });
  if (process.env.TRT_REFIT_SMAPS) {
    // The largest resident mappings, by file (or [anon], [heap], a device node), for a breakdown in the log.
    const by = new Map();
    let file = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
      if (head) file = head[1] || '[anon]';
      const r = /^Rss:\s+(\d+) kB/.exec(line);
      if (r) by.set(file, (by.get(file) ?? 0) + Number(r[1]) * 1024);
    }
    rssStages.at(-1).topMappings = [...by].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([f, b]) => `${f} ${mib(b)}`);
  }
};
stage('node started, bench loaded');
const loaded = loadBinding(args.addon);
stage('addon loaded');
if (!loaded.ok) {
  console.log(JSON.stringify({ error: 'addon not found', attempts: loaded.attempts }));
  process.exit(1);
}
const device = loadNativeDevice({ binding: loaded.binding });
device.deviceCount();
stage('CUDA runtime initialised (deviceCount)');
const kase = args.case;
const devices = kase === 'fan' || kase === 'tp' ? args.devices.split(',').map(Number) : [Number(args.devices.split(',')[0])];
const runs = Number(args.runs);
const n = Math.round((Number(args.gib) * 2 ** 30) / TENSOR);
const external = kase !== 'emb';
const dir = args.dir ?? join(tmpdir(), 'trt-refit-stream-bench');
mkdirSync(dir, { recursive: true });
const path = join(dir, external ? `ext-${n}.onnx` : `emb-${n}.onnx`);
console.log(`CASE ${JSON.stringify({ case: kase, devices, runs, tensors: n, tensorBytes: TENSOR, path, deviceCount: device.deviceCount(), device: device.deviceProperties(devices[0]) })}`);

if (!existsSync(path)) {
  const g = spawnSync(process.execPath, [process.argv[1], '--generate', path, '--tensors', String(n), ...(external ? ['--external'] : [])], { stdio: 'inherit' });
  if (g.status !== 0) throw new Error('the model could not be written');
}
const dataFile = external ? `${path}.data` : path;

// Page cache: read the file once before timing (both ours and the reference then read from memory).
// Read by a child (cat), so that its buffer is not in this process's peak RSS.
if (spawnSync('cat', [dataFile], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error(`cannot read ${dataFile}`);

// The tensors' byte ranges in the file, for the reference (the external data refs, or where raw_data lies).
const model = await openOnnxModel(path, { lazy: true });
const infos = model.tensors().filter((t) => /^w\d+$/.test(t.name));
const lazySymbol = (proto) => Object.getOwnPropertySymbols(proto).find((s) => s.description === 'trt-refit.lazyRawData');
const ranges = infos.map((t) => (external ? [t.external.offset, t.byteLength] : [t.proto[lazySymbol(t.proto)].offset, t.byteLength]));
await model.close?.();
const rangesFile = join(dir, `${kase}-ranges.txt`);
writeFileSync(rangesFile, ranges.map(([o, l]) => `${o} ${l}`).join('\n') + '\n');
const bytes = ranges.reduce((a, [, l]) => a + l, 0);

/** A refit state standing for the engine of one rank: weights w0..w(n-1), all stripped, `count` elements each. */
function refitterFor(count) {
  const weights = Array.from({ length: n }, (_, i) => ({ name: `w${i}`, dtype: DataType.FLOAT, count, dims: [count], role: WeightsRole.CONSTANT, layer: `l${i}` }));
  const state = new RefitState({ weights, fusionGroups: [], stripped: weights.map((w) => w.name) });
  return new Proxy(state, { get: (t, p) => (p === 'dispose' ? () => {} : typeof t[p] === 'function' ? t[p].bind(t) : t[p]) });
}

const shardCount = kase === 'tp' ? TENSOR / 4 / devices.length : TENSOR / 4;
const streamer = new DeviceWeightsStreamer(device, {
  devices,
  ...(kase === 'tp' ? { shard: (_name, w, k) => dim0Shards([w.count], w, k) } : {}),
});
stage('model opened and closed, streamer created (creates the CUDA context)');
const hwm0 = vmHWM();
const rss0 = vmRSS();

async function ours() {
  const ranks = devices.map(() => refitterFor(shardCount));
  const readAhead = args['read-ahead'] === undefined ? {} : { readAhead: Number(args['read-ahead']) };
  const parserRefitter = new OnnxParserRefitter(ranks[0], undefined, { streamTo: streamer.streamTo, staging: streamer.staging, ...readAhead });
  const before = streamer.stats;
  const t0 = performance.now();
  const ok = await parserRefitter.refitFromFile(path);
  const ms = performance.now() - t0;
  if (!ok) throw new Error(Array.from({ length: parserRefitter.getNbErrors() }, (_, i) => parserRefitter.getError(i).desc).join('; '));
  // The other ranks take their device's buffers (what the fan-out is for).
  for (let r = 1; r < ranks.length; r++) for (const name of streamer.names()) ranks[r].setNamedWeights(name, streamer.weightsFor(name, devices[r]), TensorLocation.DEVICE);
  for (const rank of ranks) if (rank.getMissingWeights().length || !rank.planRefit().ok) throw new Error('a rank misses weights');
  const after = streamer.stats;
  return { ms, tensors: after.tensors - before.tensors, fromStaging: after.fromStaging - before.fromStaging };
}

function reference(threads = 1) {
  if (!args.reference) return undefined;
  const r = spawnSync(args.reference, [dataFile, rangesFile, devices.join(','), '1', '1', String(threads)], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop();
  const j = JSON.parse(line || '{"error":"no output"}');
  if (j.error || r.status !== 0) throw new Error(`reference: ${j.error ?? r.stderr}`);
  return j;
}

// Bytes that reach the devices: every byte to every GPU for replicas, the file's bytes once for shards.
const deviceBytes = kase === 'fan' ? bytes * devices.length : bytes;
const refThreads = Number(args['reference-threads']);
const warm = await ours();
const refWarm = reference();
console.log(`WARMUP ${JSON.stringify({ oursMs: +warm.ms.toFixed(1), referenceMs: refWarm?.ms })}`);
const rows = [];
for (let i = 0; i < runs; i++) {
  const o = await ours();
  const r = reference();
  const t = refThreads > 1 ? reference(refThreads) : undefined;
  const row = { run: i, oursMs: +o.ms.toFixed(1), oursGBps: +(deviceBytes / o.ms / 1e6).toFixed(2), fromStaging: `${o.fromStaging}/${o.tensors}`, referenceMs: r?.ms, referenceGBps: r ? +(deviceBytes / r.ms / 1e6).toFixed(2) : undefined, referenceCheck: r?.check, ...(t ? { [`reference${refThreads}ThreadsMs`]: t.ms, [`reference${refThreads}ThreadsGBps`]: +(deviceBytes / t.ms / 1e6).toFixed(2), [`reference${refThreads}ThreadsCheck`]: t.check } : {}) };
  rows.push(row);
  console.log(`RUN ${JSON.stringify(row)}`);
}
const hwm1 = vmHWM();
const stagingBytes = streamer.stagingBytes;

// The devices hold the file's bytes (whole, or each GPU its half).
let verified = 0;
for (const i of [0, n >> 1, n - 1]) {
  const want = tensorBytes(i);
  devices.forEach((d, k) => {
    const got = Buffer.from(streamer.buffer(`w${i}`, d).download());
    const part = kase === 'tp' ? want.subarray((k * want.length) / devices.length, ((k + 1) * want.length) / devices.length) : want;
    if (!got.equals(Buffer.from(part))) throw new Error(`w${i} on device ${d} differs from the file`);
    verified++;
  });
}
streamer.dispose();

const ours5 = rows.map((r) => r.oursGBps);
const ref5 = rows.map((r) => r.referenceGBps).filter((x) => x !== undefined);
const summary = {
  case: kase,
  devices,
  weightBytes: bytes,
  deviceBytes,
  pageCached: true,
  runs,
  oursGBps: { median: median(ours5), min: Math.min(...ours5), max: Math.max(...ours5) },
  referenceGBps: ref5.length ? { median: median(ref5), min: Math.min(...ref5), max: Math.max(...ref5) } : undefined,
  ratioOfMedians: ref5.length ? +(median(ours5) / median(ref5)).toFixed(3) : undefined,
  ratioPerRun: ref5.length ? rows.map((r) => +(r.oursGBps / r.referenceGBps).toFixed(3)) : undefined,
  ...(refThreads > 1
    ? (() => {
        const t5 = rows.map((r) => r[`reference${refThreads}ThreadsGBps`]);
        return { [`reference${refThreads}ThreadsGBps`]: { median: median(t5), min: Math.min(...t5), max: Math.max(...t5) }, [`ratioTo${refThreads}Threads`]: +(median(ours5) / median(t5)).toFixed(3) };
      })()
    : {}),
  readAhead: args['read-ahead'] === undefined ? 1 : Number(args['read-ahead']),
  peakRssMiB: mib(hwm1),
  peakRssRatio: +(hwm1 / bytes).toFixed(4),
  peakRssGrowthMiB: mib(hwm1 - Math.max(hwm0, rss0)),
  rssBeforeStreamingMiB: mib(rss0),
  peakBeforeStreamingMiB: mib(hwm0),
  stagingMiB: mib(stagingBytes),
  rssStages,
  verifiedTensorCopies: verified,
};
console.log(`SUMMARY ${JSON.stringify(summary)}`);
