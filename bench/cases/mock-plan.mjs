// mock-refit, plan-write, plan-read on a 1 GiB mock engine (the synthetic model: 256 FLOAT constants of 4 MiB).
//   mock-refit: set every weight (host buffers) and refitCudaEngine(); baseline Buffer.copy of the same bytes.
//   plan-write: serialize the full plan to a file (serializeToFile); baseline fs.writeFile of the same bytes.
//   plan-read:  deserialize the plan file, verifying every checksum (while reading); baseline fs.readFile of it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuilderFlag } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';
import { GiB, fill, medianSeconds, scratchDir, syntheticModel } from '../lib.mjs';

const SIZE = Number(process.env.TRT_REFIT_BENCH_BYTES ?? GiB);
const gbps = (bytes, seconds) => bytes / seconds / 1e9;

async function engineOf(dir, flags = [BuilderFlag.REFIT]) {
  const m = await syntheticModel(dir, SIZE);
  const backend = createMockBackend();
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  if (!(await backend.createOnnxParser(network).parseFromFile(m.modelPath))) throw new Error('parse failed');
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  const plan = await builder.buildSerializedNetwork(network, config);
  builder.dispose();
  const engine = await backend.createRuntime().deserializeCudaEngine(plan);
  return { backend, engine, plan, bytes: m.bytes };
}

const mockRefit = {
  name: 'mock-refit',
  async run({ runs }) {
    const dir = scratchDir(2 * SIZE);
    const { backend, engine, bytes } = await engineOf(dir);
    const refitter = backend.createRefitter(engine);
    const names = refitter.getAllWeights();
    // New weights (a fine-tune), prepared before timing: one host buffer per weight.
    const updates = names.map((name, i) => {
      const p = refitter.getWeightsPrototype(name);
      return { name, weights: { type: p.type, values: fill(new Uint8Array(p.count * 4), 1000 + i), count: p.count } };
    });
    const refit = async () => {
      for (const u of updates) if (!refitter.setNamedWeights(u.name, u.weights)) throw new Error(`set ${u.name} failed`);
      if (!(await refitter.refitCudaEngine())) throw new Error('refit failed');
    };
    const targets = updates.map((u) => Buffer.allocUnsafeSlow(u.weights.values.byteLength));
    const copy = async () => {
      for (let i = 0; i < updates.length; i++) Buffer.from(updates[i].weights.values.buffer).copy(targets[i]);
    };
    const tOurs = await medianSeconds(refit, runs);
    const tBase = await medianSeconds(copy, runs);
    const ratio = tBase / tOurs;
    return {
      unit: 'GB/s',
      ours: gbps(bytes, tOurs),
      baseline: gbps(bytes, tBase),
      baselineName: 'Buffer.copy',
      ratio,
      weights: names.length,
      bytes,
      target: 'ratio >= 0.6',
      met: ratio >= 0.6,
    };
  },
};

const planWrite = {
  name: 'plan-write',
  async run({ runs }) {
    const dir = scratchDir(4 * SIZE);
    const { engine, plan } = await engineOf(dir);
    const path = join(dir, 'full.plan');
    // Streamed from the engine's memory to the file (MockEngine.serializeToFile), the plan never whole in memory.
    const ours = () => engine.serializeToFile(path, engine.createSerializationConfig());
    const same = engine.serialize();
    const base = () => writeFile(join(dir, 'copy.plan'), same);
    const tOurs = await medianSeconds(ours, runs);
    const tBase = await medianSeconds(base, runs);
    const ratio = tBase / tOurs;
    return { unit: 'GB/s', ours: gbps(plan.byteLength, tOurs), baseline: gbps(plan.byteLength, tBase), baselineName: 'fs.writeFile', ratio, planBytes: plan.byteLength, target: 'ratio >= 0.6', met: ratio >= 0.6 };
  },
};

const planRead = {
  name: 'plan-read',
  async run({ runs }) {
    const dir = scratchDir(3 * SIZE);
    const { backend, plan } = await engineOf(dir);
    const path = join(dir, 'full.plan');
    await writeFile(path, plan);
    const runtime = backend.createRuntime();
    // Verified while read (MockRuntime.deserializeCudaEngineFromFile, like deserializeCudaEngine(IStreamReader)).
    const ours = async () => (await runtime.deserializeCudaEngineFromFile(path)).dispose();
    // For reference: fs.readFile, then deserializeCudaEngine(bytes) verifying afterwards.
    const thenVerify = async () => (await runtime.deserializeCudaEngine(await readFile(path))).dispose();
    const base = () => readFile(path);
    const tOurs = await medianSeconds(ours, runs);
    const tBase = await medianSeconds(base, runs);
    const tThen = await medianSeconds(thenVerify, runs);
    const ratio = tBase / tOurs;
    return { unit: 'GB/s', ours: gbps(plan.byteLength, tOurs), baseline: gbps(plan.byteLength, tBase), baselineName: 'fs.readFile', ratio, readThenVerifyGBps: gbps(plan.byteLength, tThen), planBytes: plan.byteLength, target: 'ratio >= 0.8', met: ratio >= 0.8 };
  },
};

export default [mockRefit, planWrite, planRead];
