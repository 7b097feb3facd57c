// onnx-read-embedded, onnx-read-external, onnx-read-vs-naive: read every initializer of a 1 GiB synthetic model
// (256 FLOAT tensors of 4 MiB) and touch every byte.
//   ours:     openOnnxModel + model.streamTensors (reads ahead, each file opened once) + touch
//   baseline: embedded/external: fs.readFile of the file holding the weights + touch (what a user writes who
//             wants the bytes; no copy); vs-naive: fs.readFile + onnx-proto ModelProto.decode + a typed-array copy
//             per tensor (raw_data is not aligned inside the protobuf: a Float32Array needs the copy) + touch
//   limit:    Node's best loop for the same work: readSync into one reused 4 MiB buffer + touch, over the same file
// Figures in GB/s of weight bytes; `touchGBps` is the touch alone over the same bytes (in memory), the floor of all.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { openOnnxModel } from '@trt-refit/onnx';
import { GiB, MiB, alternate, childJson, figures, readSyncLoop, scratchDir, syntheticModel, touch } from '../lib.mjs';

const SIZE = Number(process.env.TRT_REFIT_BENCH_BYTES ?? GiB);

/** Ours: every tensor streamed with reads ahead and touched. */
export async function streamAndTouch(path) {
  const model = await openOnnxModel(path);
  let s = 0;
  for await (const { bytes } of model.streamTensors(model.tensors())) s += touch(bytes);
  return s;
}

const readFileAndTouch = async (path) => touch(await readFile(path));
const limitLoop = (path) => readSyncLoop(path, touch);

/** The touch alone over `bytes` bytes already in memory (4 MiB at a time), in seconds: median of 7. */
async function touchOnly(bytes) {
  const buf = Buffer.alloc(4 * MiB, 1);
  const t = await alternate({
    touch: () => {
      let s = 0;
      for (let o = 0; o < bytes; o += buf.length) s += touch(buf);
      return s;
    },
  });
  return bytes / t.touch.median / 1e9;
}

function readCase(name, external) {
  return {
    name,
    async run({ runs }) {
      const dir = scratchDir(2 * SIZE);
      const m = await syntheticModel(dir, SIZE, { external });
      const weightsFile = external ? m.externalDataPath : m.modelPath;
      const timed = await alternate({ ours: () => streamAndTouch(m.modelPath), baseline: () => readFileAndTouch(weightsFile), limit: () => limitLoop(weightsFile) }, runs);
      const f = figures(timed, { bytes: m.bytes });
      const extra = { baselineName: external ? 'fs.readFile(sidecar) + touch' : 'fs.readFile + touch', limitName: 'readSync 4 MiB reused + touch', touchGBps: await touchOnly(m.bytes), tensors: m.tensors, bytes: m.bytes };
      if (!external) return { ...f, ...extra, target: 'ratioToLimit >= 0.8', met: f.ratioToLimit >= 0.8 };
      // Peak RSS of a fresh process that only streams the model (see read-external-child.mjs).
      const child = childJson(fileURLToPath(new URL('../read-external-child.mjs', import.meta.url)), [m.modelPath]);
      const peakRssRatio = child.peakRss / m.bytes;
      return { ...f, ...extra, peakRssRatio, peakRssMiB: child.peakRss / MiB, startRssMiB: child.startRss / MiB, target: 'ratioToLimit >= 0.8, peakRssRatio <= 0.1', met: f.ratioToLimit >= 0.8 && peakRssRatio <= 0.1 };
    },
  };
}

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
    const timed = await alternate({ ours: () => streamAndTouch(m.modelPath), baseline: naive, limit: () => limitLoop(m.modelPath) }, runs);
    const f = figures(timed, { bytes: m.bytes });
    return { ...f, baselineName: 'readFile + ModelProto.decode + copy per tensor + touch', limitName: 'readSync 4 MiB reused + touch', bytes: m.bytes, target: 'ratio >= 3', met: f.ratio >= 3 };
  },
};

export default [readCase('onnx-read-embedded', false), readCase('onnx-read-external', true), vsNaive];
