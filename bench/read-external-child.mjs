// Streams every tensor of an ONNX model with external data, touching each, and prints the process's peak RSS.
import { openOnnxModel } from '@trt-refit/onnx';
import { peakRss, touch } from './lib.mjs';

const startRss = process.memoryUsage().rss;
const model = await openOnnxModel(process.argv[2]);
const tensors = model.tensors();
const scratch = new Uint8Array(tensors.reduce((m, t) => Math.max(m, t.byteLength), 0)); // one tensor's worth
let s = 0;
for (const t of tensors) s += touch(await model.readTensor(t, { into: scratch }));
console.log(JSON.stringify({ peakRss: peakRss(), startRss, s }));
