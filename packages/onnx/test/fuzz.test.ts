import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@trt-refit/core';
import { checkInput, fuzz, mutate, newStats } from '../../../fuzz/harness.js';
import { externalDir, generatedOnnx, generatedSafetensors, lazyOnnxReader, lazyOnnxSeeds, onnxReader, onnxSeeds, safetensorsReader, safetensorsSeeds } from '../../../fuzz/targets.js';

// Smoke runs of the fuzzer (fuzz/harness.ts; `pnpm fuzz` runs long campaigns): only typed errors escape, no input
// takes over 1 s, nothing returned exceeds 16x the input.
describe('fuzzing (smoke)', () => {
  it.each([
    ['ONNX reader: mutated and forged models', () => fuzz(onnxReader(externalDir()), onnxSeeds(), { seconds: 10, generated: generatedOnnx })],
    ['lazy ONNX open (large models): agrees with the eager reader on every mutated or forged file', () => fuzz(lazyOnnxReader(externalDir()), lazyOnnxSeeds(), { seconds: 5, generated: generatedOnnx })],
    ['safetensors reader: mutated and forged files', () => fuzz(safetensorsReader, safetensorsSeeds(), { seconds: 6, generated: generatedSafetensors })],
  ])('%s give a typed error or a bounded result', async (_name, run) => {
    const stats = await run();
    expect(stats.inputs).toBeGreaterThan(200);
    expect(stats.refused).toBeGreaterThan(0);
    expect(stats.accepted).toBeGreaterThan(0);
  }, 60_000);

  it('the harness itself fails on an untyped exception, a slow input and an oversized result', async () => {
    const stats = newStats();
    await expect(checkInput(() => { throw new RangeError('index out of range'); }, new Uint8Array(4), stats)).rejects.toThrow(/untyped exception escaped: RangeError/);
    await expect(checkInput(() => { throw new InvalidArgumentError('typed'); }, new Uint8Array(4), stats)).resolves.toBeUndefined();
    await expect(checkInput(async () => { await new Promise((r) => setTimeout(r, 30)); return 0; }, new Uint8Array(4), stats, { maxMs: 10 })).rejects.toThrow(/took \d+ ms/);
    await expect(checkInput(() => 1 << 20, new Uint8Array(100), stats, { slackBytes: 0 })).rejects.toThrow(/allocated 1048576 bytes for a 100-byte input/);
    // an allocation the reader does not return (a forged size it believed) is caught too
    const kept: Uint8Array[] = [];
    await expect(checkInput(() => { kept.push(new Uint8Array(64 << 20)); throw new InvalidArgumentError('refused, but after allocating'); }, new Uint8Array(100), stats)).rejects.toThrow(/allocated \d+ bytes \(bound/);
    kept.length = 0;
    expect(stats).toMatchObject({ inputs: 5, refused: 2, accepted: 2, codes: { ERR_TRT_REFIT_INVALID_ARGUMENT: 2 } });
    // mutations never change the seed
    const seed = new Uint8Array([1, 2, 3, 4]);
    expect(mutate(seed, [{ kind: 'truncate', at: 2 }, { kind: 'insert', at: 0, bytes: new Uint8Array([9]) }, { kind: 'flip', at: 1, bit: 0 }])).toEqual(new Uint8Array([9, 0, 2]));
    expect(seed).toEqual(new Uint8Array([1, 2, 3, 4]));
  });
});
