// mock-refit, plan-write, plan-read on a 1 GiB mock engine (the synthetic model: 256 FLOAT constants of 4 MiB).
//   mock-refit: set every weight (host buffers) and refitCudaEngine(), which copies them into the engine's memory;
//               baseline: TypedArray.set of the same bytes into memory of the same sizes; limit: Buffer.copy.
//   plan-write: serialize the full plan to a file (serializeToFile: temporary file, writev, rename); baseline:
//               fs.promises.writeFile of the same bytes (already serialized); limit: writeSync of the same bytes in
//               64 MiB steps into a new file.
//   plan-read:  deserialize the plan file into an engine, every weight's CRC-32 verified (deserializeCudaEngineFromFile,
//               four 8 MiB reads in flight);
//               baseline: fs.readFile then deserializeCudaEngine(bytes) (the same work, as a user would write it);
//               limit: fs.readFile alone, into fresh memory (the engine's memory is fresh too).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuilderFlag } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';
import { GiB, alternate, figures, fill, scratchDir, syntheticModel } from '../lib.mjs';

const SIZE = Number(process.env.TRT_REFIT_BENCH_BYTES ?? GiB);
/** Untimed pause after each sync of plan-write (see there). */
const HOST_FLUSH_MS = 3000;

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
    const views = targets.map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    const set = () => {
      for (let i = 0; i < updates.length; i++) views[i].set(updates[i].weights.values);
    };
    const copy = () => {
      for (let i = 0; i < updates.length; i++) Buffer.from(updates[i].weights.values.buffer).copy(targets[i]);
    };
    const f = figures(await alternate({ ours: refit, baseline: set, limit: copy }, runs), { bytes });
    return { ...f, baselineName: 'TypedArray.set per weight', limitName: 'Buffer.copy per weight', weights: names.length, bytes, target: 'ratioToLimit >= 0.9', met: f.ratioToLimit >= 0.9 };
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
    const limit = () => {
      const fd = openSync(join(dir, 'limit.plan'), 'w');
      try {
        for (let o = 0; o < same.byteLength; ) o += writeSync(fd, same, o, Math.min(64 << 20, same.byteLength - o));
      } finally {
        closeSync(fd);
      }
    };
    // Each write starts alike, untimed: no dirty pages of the last write left to throttle it (sync), then a 3 s
    // pause, then no file at its path (no truncation or replacement flush of ext4's auto_da_alloc in the timing;
    // removing the files last also hands their page-cache pages back just before the write that reuses them).
    // The pause: on this kind of VM sync returns once the virtual disk took the bytes, and the host flushes them
    // after; a write started meanwhile ran 4–8× slower in system time (measured, every variant alike: after a fast
    // write the next was slow, after a slow one fast). With the pause the rounds are mostly the fast kind.
    const before = async () => {
      spawnSync('sync');
      await new Promise((r) => setTimeout(r, HOST_FLUSH_MS));
      for (const f of ['full.plan', 'copy.plan', 'limit.plan']) rmSync(join(dir, f), { force: true });
    };
    // Writes into the page cache vary most on this kind of VM (fresh pages cost what the host makes them cost, and
    // the writeback of the virtual disk throttles some rounds): at least 15 rounds.
    const f = figures(await alternate({ ours, baseline: base, limit }, Math.max(runs, 15), { before }), { bytes: plan.byteLength });
    return { ...f, baselineName: 'fs.promises.writeFile', limitName: 'writeSync 64 MiB steps', planBytes: plan.byteLength, target: 'ratioToLimit >= 0.9', met: f.ratioToLimit >= 0.9 };
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
    const thenVerify = async () => (await runtime.deserializeCudaEngine(await readFile(path))).dispose();
    const limit = () => readFile(path);
    // Reading into fresh memory varies as writing does (the host backs fresh pages): at least 15 rounds.
    const f = figures(await alternate({ ours, baseline: thenVerify, limit }, Math.max(runs, 15)), { bytes: plan.byteLength });
    return { ...f, baselineName: 'fs.readFile + deserializeCudaEngine', limitName: 'fs.readFile (fresh memory)', planBytes: plan.byteLength, target: 'ratioToLimit >= 0.9', met: f.ratioToLimit >= 0.9 };
  },
};

export default [mockRefit, planWrite, planRead];
