import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { TrtRefitErrorCode } from '@trt-refit/core';
import { ONNX_DTYPES, bf16ToFloat, onnxByteLength, openOnnxModel, parseOnnxModel, saveOnnxModel, writeOnnxModel, type TensorSpec } from '@trt-refit/onnx';
import { f32, tmp } from './helpers.js';

/** Little-endian element bytes of `n` values of an ONNX type, valid for it (finite floats, 0/1 booleans). */
function sample(dt: number, n: number): Uint8Array {
  const bytes = new Uint8Array(onnxByteLength(dt, n)).map((_, i) => (i * 53 + 7) & 0xff);
  const dv = new DataView(bytes.buffer);
  if (dt === 1) for (let i = 0; i < n; i++) dv.setFloat32(4 * i, i * 1.25 - 2, true);
  if (dt === 11) for (let i = 0; i < n; i++) dv.setFloat64(8 * i, i * 1.25 - 2, true);
  if (dt === 9) bytes.forEach((_, i) => (bytes[i] = i & 1));
  if (dt === 10) for (let i = 0; i < n; i++) dv.setUint16(2 * i, 0x3c00 + i, true); // finite halves
  return bytes;
}

/** The same values in the typed field ONNX defines for the type. */
function typed(dt: number, bytes: Uint8Array): NonNullable<TensorSpec['typed']> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = ONNX_DTYPES[dt]!;
  switch (info.field) {
    case 'floatData': return { field: 'floatData', values: Array.from({ length: bytes.length / 4 }, (_, i) => dv.getFloat32(4 * i, true)) };
    case 'doubleData': return { field: 'doubleData', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getFloat64(8 * i, true)) };
    case 'int64Data': return { field: 'int64Data', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getBigInt64(8 * i, true)) };
    case 'uint64Data':
      return info.bits === 32
        ? { field: 'uint64Data', values: Array.from({ length: bytes.length / 4 }, (_, i) => dv.getUint32(4 * i, true)) }
        : { field: 'uint64Data', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getBigUint64(8 * i, true)) };
    default: {
      const w = info.bits >= 8 ? info.bits / 8 : 1;
      return { field: 'int32Data', values: Array.from({ length: bytes.length / w }, (_, i) => (w === 1 ? dv.getUint8(i) : w === 2 ? dv.getUint16(2 * i, true) : dv.getInt32(4 * i, true))) };
    }
  }
}

const bytesOf = (t: ort.Tensor) => {
  const d = t.data as ArrayBufferView;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};

describe('ONNX writer, read back by onnxruntime and by the reader', () => {
  // Element types onnxruntime-node hands back as typed arrays of the same bytes.
  const ortTypes = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13];
  it.each(ortTypes.map((d) => [ONNX_DTYPES[d]!.name, d] as const))('%s: raw, typed and external initializers read as onnxruntime reads them', async (_n, dt) => {
    const n = 6;
    const bytes = sample(dt, n);
    const dir = tmp();
    const forms: TensorSpec[] = [
      { name: 'raw', dataType: dt, dims: [2, 3], raw: bytes },
      { name: 'typed', dataType: dt, dims: [2, 3], typed: typed(dt, bytes) },
      { name: 'ext', dataType: dt, dims: [2, 3], raw: bytes, external: true },
    ];
    const { modelPath, externalDataPath } = await saveOnnxModel(join(dir, 'm.onnx'), {
      nodes: forms.map((f) => ({ opType: 'Identity', inputs: [f.name], outputs: [`${f.name}_out`] })),
      initializers: forms,
      outputs: forms.map((f) => ({ name: `${f.name}_out`, elemType: dt, dims: [2, 3] })),
      opset: 21,
    });
    expect(externalDataPath).toBe(join(dir, 'm.onnx.data'));
    const session = await ort.InferenceSession.create(modelPath);
    const out = await session.run({});
    const m = await openOnnxModel(modelPath);
    for (const t of m.tensors()) {
      const ours = Buffer.from(await m.readTensor(t));
      expect(ours.equals(bytesOf(out[`${t.name}_out`]!)), `${t.name} ${t.storage}`).toBe(true);
      expect(ours.equals(Buffer.from(bytes)), t.name).toBe(true);
    }
  });

  // Types onnxruntime-node cannot hand back: compared through a Cast to FLOAT that onnxruntime computes.
  const e4m3fn = (b: number) => {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >> 3) & 0xf;
    const m = b & 7;
    if (e === 15 && m === 7) return NaN;
    return s * (e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7));
  };
  const decoders: Record<number, (bytes: Uint8Array, n: number) => number[]> = {
    16: (b, n) => Array.from({ length: n }, (_, i) => bf16ToFloat(b[2 * i]! | (b[2 * i + 1]! << 8))),
    17: (b, n) => Array.from({ length: n }, (_, i) => e4m3fn(b[i]!)),
    21: (b, n) => Array.from({ length: n }, (_, i) => (b[i >> 1]! >> (4 * (i & 1))) & 15),
    22: (b, n) => Array.from({ length: n }, (_, i) => (((b[i >> 1]! >> (4 * (i & 1))) & 15) ^ 8) - 8),
  };
  it.each([16, 17, 21, 22].map((d) => [ONNX_DTYPES[d]!.name, d] as const))('%s: raw and typed initializers hold the values onnxruntime casts to FLOAT', async (_n, dt) => {
    const n = 7; // odd: the last byte of a packed type holds one element
    const bytes = sample(dt, n);
    if (dt === 21 || dt === 22) bytes[bytes.length - 1]! &= 0x0f; // the unused high nibble is zero
    if (dt === 17) bytes.forEach((b, i) => (bytes[i] = (b & 0x7f) === 0x7f ? 0x3c : b)); // no NaN
    const forms: TensorSpec[] = [
      { name: 'raw', dataType: dt, dims: [n], raw: bytes },
      { name: 'typed', dataType: dt, dims: [n], typed: typed(dt, bytes) },
    ];
    const { model } = writeOnnxModel({
      nodes: forms.map((f) => ({ opType: 'Cast', inputs: [f.name], outputs: [`${f.name}_out`], attributes: { to: 1 } })),
      initializers: forms,
      outputs: forms.map((f) => ({ name: `${f.name}_out`, elemType: 1, dims: [n] })),
      opset: 21,
    });
    const out = await (await ort.InferenceSession.create(model)).run({});
    const m = parseOnnxModel(model);
    for (const t of m.tensors()) {
      const ours = await m.readTensor(t);
      expect(Buffer.from(ours).equals(Buffer.from(bytes)), t.name).toBe(true);
      expect(decoders[dt]!(ours, n), t.name).toEqual(Array.from(out[`${t.name}_out`]!.data as Float32Array));
    }
  });

  it('Constant nodes (value_float(s), value_int(s), value) read as onnxruntime computes them', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['a'], attributes: { value_float: { float: 1.5 } } },
        { opType: 'Constant', inputs: [], outputs: ['b'], attributes: { value_floats: { floats: [1, -2.5] } } },
        { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value_int: { int: 2n ** 40n } } },
        { opType: 'Constant', inputs: [], outputs: ['d'], attributes: { value_ints: { ints: [1, -(2n ** 62n)] } } },
        { opType: 'Constant', inputs: [], outputs: ['e'], attributes: { value: { tensor: { name: 'e', dataType: 10, dims: [2], typed: { field: 'int32Data', values: [0x3c00, 0xc000] } } } } },
      ],
      outputs: ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: n, elemType: n === 'e' ? 10 : n < 'c' ? 1 : 7, dims: [] })),
    });
    const out = await (await ort.InferenceSession.create(model)).run({});
    const m = parseOnnxModel(model);
    for (const t of m.tensors()) expect(Buffer.from(await m.readTensor(t)).equals(bytesOf(out[t.name]!)), t.name).toBe(true);
    expect(m.tensors().map((t) => [t.name, t.dims])).toEqual([['a', []], ['b', [2]], ['c', []], ['d', [2]], ['e', [2]]]);
  });

  it('writes subgraphs (graph and graphs attributes), sparse initializers, value_info and opsets', () => {
    const { model } = writeOnnxModel({
      opsets: [{ domain: '', version: 21 }, { domain: 'com.example', version: 1 }],
      irVersion: 9,
      nodes: [
        { opType: 'If', name: 'if0', inputs: ['c'], outputs: ['y'], attributes: { then_branch: { graph: { nodes: [], initializers: [{ name: 'tw', dataType: 1, dims: [1], raw: f32(1) }] } }, else_branch: { graph: { nodes: [] } } } },
        { opType: 'Custom', name: 'multi', domain: 'com.example', inputs: [], outputs: [], attributes: { bodies: { graphs: [{ nodes: [], initializers: [{ name: 'g0', dataType: 1, dims: [1], raw: f32(2) }] }, { nodes: [] }] } } },
      ],
      sparseInitializers: [{ values: { name: 'sp', dataType: 1, dims: [1], raw: f32(3) }, indices: { name: 'sp_i', dataType: 7, dims: [1], typed: { field: 'int64Data', values: [2] } }, dims: [4] }],
      valueInfo: [{ name: 'y', elemType: 1, dims: ['n'] }],
    });
    const m = parseOnnxModel(model);
    expect(m.irVersion).toBe(9);
    expect(m.opsets).toEqual([{ domain: '', version: 21 }, { domain: 'com.example', version: 1 }]);
    expect(m.graph.valueInfo?.[0]?.name).toBe('y');
    expect(m.tensors().map((t) => [t.name, t.kind, t.scope])).toEqual([
      ['sp', 'sparse_initializer', 'graph'],
      ['tw', 'initializer', 'graph/if0.then_branch'],
      ['g0', 'initializer', 'graph/multi.bodies[0]'],
    ]);
  });

  it('saveOnnxModel writes the sidecar next to the model and the model reads it back', async () => {
    const dir = tmp();
    const { externalDataPath } = await saveOnnxModel(join(dir, 'net.onnx'), { nodes: [], initializers: [{ name: 'w', dataType: 1, dims: [3], raw: f32(1, 2, 3), external: true }] });
    expect(readFileSync(externalDataPath!).length).toBe(12);
    const m = await openOnnxModel(join(dir, 'net.onnx'));
    expect(m.tensors()[0]).toMatchObject({ storage: 'external', external: { location: 'net.onnx.data', offset: 0, length: 12 } });
    const plain = await saveOnnxModel(join(dir, 'plain.onnx'), { nodes: [] });
    expect(plain.externalDataPath).toBeUndefined();
  });

  it('forged external-data entries are written verbatim, so readers can be tested against them', async () => {
    const { model, externalData } = writeOnnxModel({ nodes: [], initializers: [{ name: 'w', dataType: 1, dims: [1], externalData: [{ key: 'location', value: '../x' }] }] });
    expect(externalData).toBeUndefined();
    const m = parseOnnxModel(model);
    await expect(m.readTensor(m.tensors()[0]!)).rejects.toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA });
  });
});
