// Streams every tensor of an ONNX model with external data (as the onnx-read cases do), touching each, and prints
// the process's peak RSS.
import { peakRss } from './lib.mjs';
import { streamAndTouch } from './cases/onnx-read.mjs';

const startRss = process.memoryUsage().rss;
const s = await streamAndTouch(process.argv[2]);
console.log(JSON.stringify({ peakRss: peakRss(), startRss, s }));
