#!/usr/bin/env node
// End-to-end check of the addon's TensorRT half without TensorRT or a GPU: compiles a fake libnvinfer (from the
// same headers the addon was built against) and a fake libcudart (host memory), then drives the real addon
// through the public TS API: loading and version checks, deserialization from a worker thread, refits with host
// and device weights, the logger and error recorder across threads, serialization configs, execution, dispose
// order and the GC. Needs a C++ compiler, python3 and a build of the addon; writes nothing outside a temp folder.
//
//   node scripts/fake-tensorrt-check.mjs --addon build/Release/trt_refit_native.node --headers <TensorRT include/>
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { addon: { type: 'string' }, headers: { type: 'string' }, child: { type: 'boolean' }, lib: { type: 'string' } } });

if (!args.child) {
  const addon = resolve(args.addon ?? join(here, '..', 'build', 'Release', 'trt_refit_native.node'));
  const headers = resolve(args.headers ?? process.env.TENSORRT_INCLUDE_DIR ?? '');
  const cudaInclude = join(process.env.CUDA_PATH ?? '/usr/local/cuda', 'include');
  const dir = mkdtempSync(join(tmpdir(), 'trt-refit-fake-trt-'));
  const major = execFileSync('sh', ['-c', `grep -E '#define TRT_MAJOR_ENTERPRISE|#define NV_TENSORRT_MAJOR [0-9]' ${join(headers, 'NvInferVersion.h')} | head -1 | awk '{print $3}'`], { encoding: 'utf8' }).trim();
  execFileSync('sh', ['-c', `python3 ${join(here, 'fake-tensorrt', 'gen-stubs.py')} ${join(headers, 'NvInferImpl.h')} > ${join(dir, 'fake_stubs.h')}`]);
  const minor = execFileSync('sh', ['-c', `grep -E '#define TRT_MINOR_ENTERPRISE|#define NV_TENSORRT_MINOR [0-9]' ${join(headers, 'NvInferVersion.h')} | head -1 | awk '{print $3}'`], { encoding: 'utf8' }).trim();
  const compile = (out, defines = []) =>
    execFileSync('g++', ['-std=c++17', '-O1', '-Wno-deprecated-declarations', '-shared', '-fPIC', '-fvisibility=hidden', ...defines, `-I${dir}`, `-I${headers}`, `-I${cudaInclude}`, '-o', out, join(here, 'fake-tensorrt', 'fake-nvinfer.cc'), '-lpthread'], { stdio: 'inherit' });
  compile(join(dir, `libnvinfer.so.${major}`));
  // Libraries the addon must refuse: another major behind the expected file name, and an older minor.
  execFileSync('mkdir', ['-p', join(dir, 'other-major'), join(dir, 'older')]);
  compile(join(dir, 'other-major', `libnvinfer.so.${major}`), [`-DFAKE_TRT_MAJOR=${Number(major) + 1}`]);
  if (Number(minor) > 0) compile(join(dir, 'older', `libnvinfer.so.${major}`), [`-DFAKE_TRT_MINOR=${Number(minor) - 1}`]);
  execFileSync('cc', ['-shared', '-fPIC', '-O2', `-I${cudaInclude}`, '-o', join(dir, 'libcudart-fake.so'), join(here, 'fake-cudart.c'), '-lpthread'], { stdio: 'inherit' });
  console.log(`fake TensorRT ${major} in ${dir}; addon ${addon}`);
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', '--addon', addon, '--lib', dir], {
    stdio: 'inherit',
    env: { ...process.env, TRT_REFIT_CUDART_PATH: join(dir, 'libcudart-fake.so') },
  });
  process.exit(r.status ?? 1);
}

const { CollectingErrorRecorder, MemoryLogger, EngineStat, SerializationFlag, TensorLocation, DataType, TrtRefitErrorCode } = await import('@trt-refit/core');
const { loadNativeBackend, probeNativeBackend } = await import('@trt-refit/native-backend');

let failed = 0;
async function check(name, fn) {
  try {
    const detail = await fn();
    console.log(`ok   ${name}${detail ? ` ${JSON.stringify(detail)}` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
async function rejects(p) {
  return p.then(() => undefined, (e) => e);
}
const enc = new TextEncoder();
const plan = (refittable, stripped) => enc.encode(`FAKEPLAN;R=${refittable ? 1 : 0};S=${stripped ? 1 : 0};w=1,1,1,1;b=0`);
const options = { addonPath: args.addon, tensorrtLibDir: args.lib, env: {} };
const logger = new MemoryLogger();
let backend;

await check('a library of another major, or older than the headers, is refused before any call', () => {
  const other = probeNativeBackend({ ...options, tensorrtLibDir: `${args.lib}/other-major` });
  assert(!other.available && /ABI differs between majors/.test(other.reasons.map((r) => r.cause).join()), JSON.stringify(other.reasons));
  const older = probeNativeBackend({ ...options, tensorrtLibDir: `${args.lib}/older` });
  const olderText = older.reasons.map((r) => r.cause).join();
  assert(!older.available && (/older than the TensorRT/.test(olderText) || /cannot open/.test(olderText)), JSON.stringify(older.reasons));
  return { otherMajor: other.reasons[0].cause, older: older.reasons[0].cause };
});

await check('probe: available with the fake library, parser missing is a note', () => {
  const p = probeNativeBackend(options);
  assert(p.available, JSON.stringify(p.reasons));
  assert(p.reasons.some((r) => /ONNX parser/.test(r.cause)), 'parser note');
  backend = loadNativeBackend({ ...options, logger });
  return { version: p.version };
});

await check('createBuilder failure carries TensorRT\'s logged reason', () => {
  try {
    backend.createBuilder();
  } catch (e) {
    assert(/fake TensorRT cannot build engines/.test(e.message), e.message);
    return { code: e.code };
  }
  throw new Error('createBuilder succeeded');
});

await check('deserialize on a worker thread: a foreign plan rejects with the reason logged there', async () => {
  const runtime = backend.createRuntime();
  const e = await rejects(runtime.deserializeCudaEngine(enc.encode('not a plan')));
  assert(e?.code === TrtRefitErrorCode.INVALID_PLAN, e?.code);
  assert(/magic tag mismatch/.test(e.message), e.message);
  assert(logger.errors().some((m) => /magic tag mismatch/.test(m)), 'logger got it too');
});

let engine;
await check('a stripped plan deserializes refittable; stats, I/O, inspector, default serialization flags', async () => {
  engine = await backend.createRuntime().deserializeCudaEngine(plan(true, true));
  assert(engine.isRefittable(), 'refittable');
  assert(engine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE) === 20, 'stripped size');
  const io = engine.getIOTensors();
  assert(io.length === 2 && io[0].mode === 'INPUT' && io[1].dims.join() === '-1,4', JSON.stringify(io));
  const layers = engine.getLayers();
  assert(layers[0].fusedFrom.join() === '/conv/Conv,/bn/BatchNormalization', JSON.stringify(layers));
  assert(engine.createSerializationConfig().getFlags().join() === SerializationFlag.EXCLUDE_WEIGHTS, 'exclude weights');
  assert(logger.messages.some((m) => /fake deserialize: 2 weights/.test(m.message)), 'INFO from the worker thread reached the logger');
});

const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
const run = async () => Array.from((await engine.createExecutionContext().execute({ input: { data: x, dims: [2, 4] } })).output.data);

await check('execution before refit gives zeros (stripped weights)', async () => {
  const out = await run();
  assert(out.every((v) => v === 0), JSON.stringify(out));
});

let refitter;
const recorder = new CollectingErrorRecorder();
const w = new Float32Array([2, 0, 0, 0]);
await check('refitter: refusals are false with the reason in logger and recorder; host and device weights set', async () => {
  refitter = backend.createRefitter(engine, logger);
  refitter.setErrorRecorder(recorder);
  assert(refitter.getAllWeights().sort().join() === 'b,w', refitter.getAllWeights().join());
  assert(refitter.getMissingWeights().length === 2, 'both missing');
  assert(refitter.setNamedWeights('nope', { type: DataType.FLOAT, values: new Float32Array(4), count: 4 }) === false, 'unknown');
  assert(refitter.setNamedWeights('w', { type: DataType.FLOAT, values: new Float32Array(3), count: 3 }) === false, 'count');
  assert(recorder.getNbErrors() === 2 && /no refittable weights named nope/.test(recorder.getErrorDesc(0)), JSON.stringify(recorder.errors));
  assert(refitter.getWeightsPrototype('w').count === 4 && refitter.getWeightsPrototype('nope').count === -1, 'prototypes');
  const wWeights = { type: DataType.FLOAT, values: w, count: 4 };
  assert(refitter.setNamedWeights('w', wWeights), 'w');
  assert(refitter.getMissingWeights().join() === 'b', refitter.getMissingWeights().join());
  assert((await refitter.refitCudaEngine()) === false, 'refit refused while b is missing');
  const b = backend.device.fromHost(new Float32Array([0.5]));
  assert(refitter.setNamedWeights('b', { type: DataType.FLOAT, values: b, count: 1 }), 'b on the device');
  assert(refitter.getWeightsLocation('b') === TensorLocation.DEVICE, 'location');
  assert(refitter.getNamedWeights('w') === wWeights, 'the same object comes back');
  assert(refitter.getMissingWeights().length === 0, 'complete');
});

await check('refit on a worker thread; outputs follow; in-place update + refit again; async refit on a stream', async () => {
  assert(await refitter.refitCudaEngine(), 'refit');
  let out = await run();
  assert(out[0] === 2.5 && out[7] === 16.5, JSON.stringify(out));
  w[0] = 3;
  const pending = refitter.refitCudaEngine();
  let busy;
  try {
    refitter.getAllWeights();
  } catch (e) {
    busy = e.code;
  }
  assert(busy === TrtRefitErrorCode.INVALID_STATE, `sync call during a refit: ${busy}`);
  assert(await pending, 'second refit');
  out = await run();
  assert(out[0] === 3.5, JSON.stringify(out));
  const stream = backend.device.createStream();
  assert(await refitter.refitCudaEngineAsync(stream), 'async refit');
  await stream.synchronize();
  assert(logger.messages.some((m) => /fake refit: 2 weights applied/.test(m.message)), 'worker-thread INFO reached the logger');
});

await check('setMaxThreads(0) is false with the reason recorded; unset works once', () => {
  const before = recorder.getNbErrors();
  assert(refitter.setMaxThreads(0) === false && recorder.getNbErrors() === before + 1, 'maxThreads');
  assert(refitter.unsetNamedWeights('w') === true && refitter.unsetNamedWeights('w') === false, 'unset');
});

await check('a refitted stripped engine serialized with weights is a full plan, not refittable without INCLUDE_REFIT', async () => {
  const config = engine.createSerializationConfig();
  assert(config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS), 'clear');
  const full = await backend.createRuntime().deserializeCudaEngine(engine.serializeWithConfig(config));
  assert(!full.isRefittable(), 'not refittable');
  let code;
  try {
    backend.createRefitter(full);
  } catch (e) {
    code = e.code;
  }
  assert(code === TrtRefitErrorCode.NOT_REFITTABLE, code);
  config.setFlag(SerializationFlag.INCLUDE_REFIT);
  const again = await backend.createRuntime().deserializeCudaEngine(engine.serializeWithConfig(config));
  assert(again.isRefittable(), 'INCLUDE_REFIT keeps it refittable');
});

await check('cycles of create refitter / set host and device weights / refit / dispose (with a stream): RSS flat', async () => {
  const readRss = () => process.memoryUsage().rss;
  const N = Number(process.env.TRT_REFIT_CYCLES ?? 10000);
  const cycle = async () => {
    const r = backend.createRefitter(engine, logger);
    const b = backend.device.fromHost(new Float32Array([0.25]));
    const stream = backend.device.createStream();
    if (!r.setNamedWeights('w', { type: DataType.FLOAT, values: new Float32Array([1, 0, 0, 0]), count: 4 })) throw new Error('set w');
    if (!r.setNamedWeights('b', { type: DataType.FLOAT, values: b, count: 1 }, TensorLocation.DEVICE)) throw new Error('set b');
    if (!(await r.refitCudaEngineAsync(stream))) throw new Error('refit');
    await stream.synchronize();
    r.dispose();
    b.dispose();
    stream.dispose();
  };
  const settle = async () => {
    globalThis.gc?.();
    await new Promise((res) => setTimeout(res, 100));
    globalThis.gc?.();
    logger.clear();
    return readRss();
  };
  for (let i = 0; i < N / 10; i++) await cycle();
  const marks = [await settle()];
  const heaps = [process.memoryUsage()];
  const t0 = performance.now();
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < N; i++) await cycle();
    marks.push(await settle());
    heaps.push(process.memoryUsage());
  }
  const pct = (a, b2) => +((100 * (b2 - a)) / a).toFixed(2);
  const windows = [pct(marks[0], marks[1]), pct(marks[1], marks[2]), pct(marks[2], marks[3])];
  const detail = { cycles: N, msPerCycle: +((performance.now() - t0) / (3 * N)).toFixed(2), rssMiB: marks.map((m) => +(m / 2 ** 20).toFixed(1)), heapUsedMiB: heaps.map((h) => +(h.heapUsed / 2 ** 20).toFixed(1)), externalMiB: heaps.map((h) => +(h.external / 2 ** 20).toFixed(1)), growthPctPerWindow: windows };
  assert(windows[2] < 1, `RSS grew ${windows[2]} % over the last ${N} cycles: ${JSON.stringify(detail)}`);
  return detail;
});

await check('dispose order does not matter (native objects keep what they depend on); GC is safe', async () => {
  const runtime = backend.createRuntime();
  const e2 = await runtime.deserializeCudaEngine(plan(true, false));
  const r2 = backend.createRefitter(e2);
  const ctx = e2.createExecutionContext();
  runtime.dispose(); // TensorRT requires the runtime to outlive its engines: the addon keeps it alive
  assert(r2.getAllWeights().length === 2, 'refitter still works');
  assert(await r2.refitCudaEngine(), 'refit after the runtime was disposed');
  await ctx.execute({ input: { data: x, dims: [2, 4] } });
  e2.dispose();
  let code;
  try {
    ctx.dispose();
    await ctx.execute({ input: { data: x, dims: [2, 4] } });
  } catch (e) {
    code = e.code;
  }
  assert(code === TrtRefitErrorCode.DISPOSED, code);
  r2.dispose();
  r2.dispose();
  for (let i = 0; i < 50; i++) {
    const rt = backend.createRuntime();
    const en = await rt.deserializeCudaEngine(plan(true, true));
    backend.createRefitter(en).setNamedWeights('b', { type: DataType.FLOAT, values: new Float32Array(1), count: 1 });
  }
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 50));
  globalThis.gc?.();
});

console.log(`SUMMARY ${JSON.stringify({ ok: failed === 0, failed, tensorrtVersion: backend?.tensorrtVersion })}`);
process.exitCode = failed ? 1 : 0;
