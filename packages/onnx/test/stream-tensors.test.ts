import { copyFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExternalDataError, OnnxModel, openOnnxModel, writeOnnxModel } from '@trt-refit/onnx';
import { fixture, tmp } from './helpers.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

/** A model of `n` FLOAT tensors of `count` values with external data in m.onnx.data, and each tensor's bytes. */
function externalModel(n: number, count: number) {
  const dir = tmp();
  const raws = Array.from({ length: n }, (_, i) => new Uint8Array(new Float32Array(count).map((_, k) => i * 1000 + k).buffer));
  const { model, externalData } = writeOnnxModel(
    {
      nodes: raws.map((_, i) => ({ opType: 'Add', inputs: [i ? `y${i - 1}` : 'x', `w${i}`], outputs: [`y${i}`] })),
      initializers: raws.map((raw, i) => ({ name: `w${i}`, dataType: 1, dims: [count], raw, external: true })),
      inputs: [{ name: 'x', elemType: 1, dims: [count] }],
      outputs: [{ name: `y${n - 1}`, elemType: 1, dims: [count] }],
      externalDataFile: 'm.onnx.data',
    },
  );
  writeFileSync(join(dir, 'm.onnx'), model);
  writeFileSync(join(dir, 'm.onnx.data'), externalData!);
  return { path: join(dir, 'm.onnx'), raws };
}

describe('OnnxModel.streamTensors', () => {
  it('yields every tensor in order with its bytes, staging file-backed ones in readAhead + 1 buffers that do not change while held', async () => {
    const { path, raws } = externalModel(7, 1000);
    const model = await openOnnxModel(path);
    expect(model.tensors().every((t) => OnnxModel.readsFromFile(t))).toBe(true);
    for (const readAhead of [0, 1, 3]) {
      const buffers = new Set<ArrayBufferLike>();
      const names: string[] = [];
      for await (const { info, bytes } of model.streamTensors(model.tensors(), { readAhead })) {
        names.push(info.name);
        buffers.add(bytes.buffer);
        const i = Number(info.name.slice(1));
        expect(Buffer.from(bytes).equals(Buffer.from(raws[i]!)), info.name).toBe(true);
        await tick(); // the reads ahead land meanwhile, in other buffers
        await tick();
        expect(Buffer.from(bytes).equals(Buffer.from(raws[i]!)), `${info.name} after the reads ahead`).toBe(true);
      }
      expect(names).toEqual(raws.map((_, i) => `w${i}`));
      expect(buffers.size).toBe(readAhead + 1);
    }
  });

  it('reads into the buffers it is given, and refuses too few or too small ones', async () => {
    const { path, raws } = externalModel(4, 256);
    const model = await openOnnxModel(path);
    const given = [new Uint8Array(1024), new Uint8Array(2048)];
    const seen = new Set<ArrayBufferLike>();
    for await (const { info, bytes } of model.streamTensors(model.tensors(), { buffers: given })) {
      seen.add(bytes.buffer);
      expect(Buffer.from(bytes).equals(Buffer.from(raws[Number(info.name.slice(1))]!))).toBe(true);
    }
    expect(seen).toEqual(new Set(given.map((b) => b.buffer)));
    await expect(model.streamTensors(model.tensors(), { buffers: [new Uint8Array(1024)] }).next()).rejects.toThrow(/2 Uint8Arrays of at least 1024 bytes are needed \(readAhead 1 \+ 1\), got 1 of 1024 bytes/);
    await expect(model.streamTensors(model.tensors(), { buffers: [new Uint8Array(1024), new Uint8Array(1023)] }).next()).rejects.toThrow(RangeError);
    await expect(model.streamTensors(model.tensors(), { readAhead: 65 }).next()).rejects.toThrow(/readAhead must be an integer from 0 to 64, got 65/);
  });

  it('throws a failed read when its tensor is reached, after yielding the ones before it', async () => {
    const { path, raws } = externalModel(6, 1000);
    truncateSync(`${path}.data`, statSync(`${path}.data`).size - 4000 * 2 - 10); // w4 and w5 run past the end
    const model = await openOnnxModel(path);
    const got: string[] = [];
    const run = async () => {
      for await (const { info, bytes } of model.streamTensors(model.tensors(), { readAhead: 3 })) {
        expect(Buffer.from(bytes).equals(Buffer.from(raws[Number(info.name.slice(1))]!))).toBe(true);
        got.push(info.name);
      }
    };
    await expect(run()).rejects.toThrow(ExternalDataError);
    await expect(run()).rejects.toThrow(/tensor w4: external data range .* runs past the end of m\.onnx\.data/);
    expect(got.slice(0, 4)).toEqual(['w0', 'w1', 'w2', 'w3']);
  });

  it('stops cleanly when the caller breaks out, and embedded tensors are views of the model', async () => {
    const { path } = externalModel(5, 1000);
    const model = await openOnnxModel(path);
    let n = 0;
    for await (const _ of model.streamTensors(model.tensors(), { readAhead: 2 })) if (++n === 2) break;
    expect(n).toBe(2);
    // a second stream over the same model works after the first was abandoned (its files were closed)
    let m = 0;
    for await (const _ of model.streamTensors(model.tensors())) m++;
    expect(m).toBe(5);
    const dir = tmp();
    copyFileSync(fixture('convbn/convbn_a.onnx'), join(dir, 'a.onnx'));
    const embedded = await openOnnxModel(join(dir, 'a.onnx'));
    for await (const { info, bytes } of embedded.streamTensors(embedded.tensors())) {
      expect(OnnxModel.readsFromFile(info)).toBe(false);
      expect(Buffer.from(bytes).equals(Buffer.from(await embedded.readTensor(info)))).toBe(true);
    }
  });
});
