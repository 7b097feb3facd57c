// onnx-read-embedded, onnx-read-external, onnx-read-vs-naive: read every initializer of a 1 GiB synthetic model
// into typed views and touch every byte, beside fs.readFile (+ the same touch) and beside the naive way
// (onnx-proto ModelProto.decode + a typed-array copy per tensor).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { openOnnxModel } from '@trt-refit/onnx';
import { GiB, childJson, medianSeconds, scratchDir, syntheticModel, touch } from '../lib.mjs';

const SIZE = Number(process.env.TRT_REFIT_BENCH_BYTES ?? GiB);

/**
 * Ours: open, then read each tensor and touch it, streaming through one scratch buffer (`readTensor(t, { into })`)
 * as a refit that uploads each tensor does: external data, and embedded data of a model opened lazily (files of
 * 64 MiB or more), are read from the file into it; small embedded tensors are views of the model's bytes.
 */
async function ours(path) {
  const model = await openOnnxModel(path);
  const tensors = model.tensors();
  const scratch = new Uint8Array(tensors.reduce((m, t) => Math.max(m, t.byteLength), 0));
  let s = 0;
  let bytes = 0;
  for (const t of tensors) {
    const data = await model.readTensor(t, { into: scratch });
    s += touch(data);
    bytes += data.byteLength;
  }
  return { s, bytes };
}

async function readFileAndTouch(path) {
  return touch(new Uint8Array(await readFile(path)));
}

const gbps = (bytes, seconds) => bytes / seconds / 1e9;

const embedded = {
  name: 'onnx-read-embedded',
  async run({ runs }) {
    const dir = scratchDir(2 * SIZE);
    const m = await syntheticModel(dir, SIZE);
    const tOurs = await medianSeconds(() => ours(m.modelPath), runs);
    const tBase = await medianSeconds(() => readFileAndTouch(m.modelPath), runs);
    const ratio = tBase / tOurs;
    return { unit: 'GB/s', ours: gbps(m.bytes, tOurs), baseline: gbps(m.bytes, tBase), baselineName: 'fs.readFile + touch', ratio, tensors: m.tensors, bytes: m.bytes, target: 'ratio >= 0.8', met: ratio >= 0.8 };
  },
};

const external = {
  name: 'onnx-read-external',
  async run({ runs }) {
    const dir = scratchDir(2 * SIZE);
    const m = await syntheticModel(dir, SIZE, { external: true });
    const tOurs = await medianSeconds(() => ours(m.modelPath), runs);
    const tBase = await medianSeconds(() => readFileAndTouch(m.externalDataPath), runs);
    // Peak RSS of a fresh process that only streams the model tensor by tensor (see read-external-child.mjs).
    const child = childJson(fileURLToPath(new URL('../read-external-child.mjs', import.meta.url)), [m.modelPath]);
    const peakRssRatio = child.peakRss / m.bytes;
    const ratio = tBase / tOurs;
    return {
      unit: 'GB/s',
      ours: gbps(m.bytes, tOurs),
      baseline: gbps(m.bytes, tBase),
      baselineName: 'fs.readFile(sidecar) + touch',
      ratio,
      peakRssRatio,
      peakRssMiB: child.peakRss / 2 ** 20,
      startRssMiB: child.startRss / 2 ** 20,
      tensors: m.tensors,
      bytes: m.bytes,
      target: 'ratio >= 0.8, peakRssRatio <= 0.25',
      met: ratio >= 0.8 && peakRssRatio <= 0.25,
    };
  },
};

const vsNaive = {
  name: 'onnx-read-vs-naive',
  async run({ runs }) {
    const dir = scratchDir(2 * SIZE);
    const m = await syntheticModel(dir, SIZE);
    const { ModelProto } = onnxProto.onnx;
    const naive = async () => {
      const proto = ModelProto.decode(await readFile(m.modelPath));
      let s = 0;
      for (const t of proto.graph.initializer) s += touch(new Uint8Array(t.rawData)); // a typed-array copy per tensor
      return s;
    };
    const tOurs = await medianSeconds(() => ours(m.modelPath), runs);
    const tNaive = await medianSeconds(naive, runs);
    const ratio = tNaive / tOurs;
    return { unit: 'GB/s', ours: gbps(m.bytes, tOurs), baseline: gbps(m.bytes, tNaive), baselineName: 'ModelProto.decode + copy per tensor', ratio, bytes: m.bytes, target: 'ratio >= 3', met: ratio >= 3 };
  },
};

export default [embedded, external, vsNaive];
