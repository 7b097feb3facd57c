/**
 * `pnpm fuzz [--inputs N] [--seconds S] [--only onnx,onnx-lazy,safetensors,plan] [--seed K]`: long fuzzing campaigns of the
 * three readers (fuzz/harness.ts), one after the other; prints one JSON line of statistics per reader and exits 1
 * on the first failure (fast-check prints the shrunk counterexample and the seed to replay it).
 */
import { createMockBackend } from '@trt-refit/mock-backend';
import { fuzz, type FuzzStats } from './harness.js';
import { externalDir, generatedOnnx, generatedSafetensors, lazyOnnxReader, lazyOnnxSeeds, onnxReader, onnxSeeds, planReader, planSeeds, safetensorsReader, safetensorsSeeds } from './targets.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const inputs = Number(opt('inputs') ?? 1_000_000);
const seconds = Number(opt('seconds') ?? 3600);
const seed = opt('seed') !== undefined ? Number(opt('seed')) : Date.now() % 2 ** 31;
const only = new Set((opt('only') ?? 'onnx,onnx-lazy,safetensors,plan').split(','));

const targets = [
  { name: 'onnx', run: async () => fuzz(onnxReader(externalDir()), onnxSeeds(), { inputs, seconds, seed, generated: generatedOnnx }) },
  { name: 'onnx-lazy', run: async () => fuzz(lazyOnnxReader(externalDir()), lazyOnnxSeeds(), { inputs, seconds, seed, generated: generatedOnnx }) },
  { name: 'safetensors', run: async () => fuzz(safetensorsReader, safetensorsSeeds(), { inputs, seconds, seed, generated: generatedSafetensors }) },
  { name: 'plan', run: async () => fuzz(planReader, await planSeeds(createMockBackend()), { inputs, seconds, seed }) },
];
for (const t of targets) {
  if (!only.has(t.name)) continue;
  let stats: FuzzStats;
  try {
    stats = await t.run();
  } catch (e) {
    console.error(String((e as Error).message ?? e));
    console.log(JSON.stringify({ reader: t.name, seed, failed: true }));
    process.exit(1);
  }
  console.log(JSON.stringify({ reader: t.name, seed, ...stats, inputsPerSecond: Math.round(stats.inputs / stats.seconds) }));
}
