import { execFileSync } from 'node:child_process';
import { writeFileSync, copyFileSync, symlinkSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrtRefitErrorCode, isTrtRefitError } from '@trt-refit/core';
import { openOnnxModel, parseOnnxModel, topologicalOrder, writeOnnxModel, ONNX_DTYPES, onnxByteLength, type OnnxTensorInfo } from '@trt-refit/onnx';
import { fixture, fixtureBytes, f32, halfToFloat, replaceAll, tmp, toF32, corpusModels } from './helpers.js';

const CONVBN_INITIALIZERS = ['c1.weight', 'c1.bias', 'b1.weight', 'b1.bias', 'b1.running_mean', 'b1.running_var', 'c2.weight', 'b2.weight', 'b2.bias', 'b2.running_mean', 'b2.running_var', 'fc.weight', 'fc.bias'];

async function valuesByName(path: string): Promise<Map<string, { info: OnnxTensorInfo; bytes: Uint8Array }>> {
  const m = await openOnnxModel(path);
  const out = new Map<string, { info: OnnxTensorInfo; bytes: Uint8Array }>();
  for (const t of m.tensors()) out.set(t.name, { info: t, bytes: await m.readTensor(t) });
  return out;
}

describe('ONNX reader on the fixtures', () => {
  it('lists convbn_a: 13 float32 initializers with their shapes, and the GELU constants of the Constant nodes', async () => {
    const m = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const inits = m.tensors().filter((t) => t.kind === 'initializer');
    expect(inits.map((t) => t.name)).toEqual(CONVBN_INITIALIZERS);
    expect(inits.every((t) => t.dtypeName === 'FLOAT' && t.storage === 'raw' && t.scope === 'graph')).toBe(true);
    expect(inits.find((t) => t.name === 'c1.weight')?.dims).toEqual([8, 3, 3, 3]);
    expect(inits.find((t) => t.name === 'fc.weight')?.dims).toEqual([10, 16]);
    const constants = m.tensors().filter((t) => t.kind === 'constant');
    expect(constants.length).toBe(3);
    const values = await Promise.all(constants.map(async (c) => toF32(await m.readTensor(c))[0]!));
    expect(values.map((v) => Math.round(v * 1e4) / 1e4).sort()).toEqual([0.5, 1, 1.4142].sort());
    expect(m.irVersion).toBe(8);
    expect(m.opsets).toEqual([{ domain: '', version: 17 }]);
  });

  it('embedded raw_data is a view into the model bytes, not a copy', async () => {
    const bytes = fixtureBytes('convbn/convbn_a.onnx');
    const m = parseOnnxModel(bytes);
    const t = m.tensors().find((x) => x.name === 'c1.weight')!;
    const data = await m.readTensor(t);
    expect(data.buffer).toBe(bytes.buffer);
    expect(data.byteLength).toBe(8 * 3 * 3 * 3 * 4);
  });

  it('external data (convbn_a_ext) reads the same bytes as the embedded model', async () => {
    const a = await valuesByName(fixture('convbn/convbn_a.onnx'));
    const ext = await valuesByName(fixture('convbn/convbn_a_ext.onnx'));
    expect([...ext.values()].filter((v) => v.info.storage === 'external').length).toBeGreaterThan(5);
    for (const name of CONVBN_INITIALIZERS) expect(Buffer.from(ext.get(name)!.bytes).equals(Buffer.from(a.get(name)!.bytes)), name).toBe(true);
  });

  it('the dynamo export (other layout, .data sidecar) reads, and its classifier weights equal the TorchScript export', async () => {
    const a = await valuesByName(fixture('convbn/convbn_a.onnx'));
    const d = await valuesByName(fixture('convbn/convbn_a_dynamo.onnx'));
    expect([...d.values()].some((v) => v.info.storage === 'external')).toBe(true);
    // dynamo folds BatchNormalization into the convolutions, so only the Gemm weights are the same tensors
    for (const name of ['fc.weight', 'fc.bias']) expect(Buffer.from(d.get(name)!.bytes).equals(Buffer.from(a.get(name)!.bytes)), name).toBe(true);
  });

  it('float16 initializers read as FLOAT16 with values close to the float32 model', async () => {
    const a = await valuesByName(fixture('convbn/convbn_a.onnx'));
    const h = await valuesByName(fixture('convbn/convbn_a_fp16_initializers.onnx'));
    for (const name of CONVBN_INITIALIZERS) {
      const half = h.get(name)!;
      expect(half.info.dtypeName).toBe('FLOAT16');
      const f = toF32(a.get(name)!.bytes);
      const dv = new DataView(half.bytes.buffer, half.bytes.byteOffset, half.bytes.byteLength);
      for (let i = 0; i < f.length; i++) expect(Math.abs(halfToFloat(dv.getUint16(2 * i, true)) - f[i]!)).toBeLessThanOrEqual(Math.abs(f[i]!) * 1e-3 + 1e-4);
    }
  });

  it('tinyxf: 12 initializers and 60 Constant nodes (INT64 shape constants and FLOAT scalars)', async () => {
    const m = await openOnnxModel(fixture('tinyxf/tinyxf_a.onnx'));
    expect(m.tensors().filter((t) => t.kind === 'initializer')).toHaveLength(12);
    expect(m.tensors().filter((t) => t.kind === 'constant')).toHaveLength(60);
    expect(m.tensors().find((t) => t.name === 'attn.in_proj_weight')?.dims).toEqual([96, 32]);
    for (const t of m.tensors()) expect((await m.readTensor(t)).byteLength).toBe(t.byteLength);
  });
});

describe('every element type, raw and typed', () => {
  const count = 5;
  const typedFor = (dt: number, bytes: Uint8Array): { field: 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data'; values: (number | bigint)[] } | undefined => {
    const info = ONNX_DTYPES[dt]!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (info.bits === 0) return undefined;
    switch (info.field) {
      case 'floatData':
        return { field: 'floatData', values: Array.from({ length: bytes.length / 4 }, (_, i) => dv.getFloat32(4 * i, true)) };
      case 'doubleData':
        return { field: 'doubleData', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getFloat64(8 * i, true)) };
      case 'int64Data':
        return { field: 'int64Data', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getBigInt64(8 * i, true)) };
      case 'uint64Data':
        return info.bits === 32
          ? { field: 'uint64Data', values: Array.from({ length: bytes.length / 4 }, (_, i) => dv.getUint32(4 * i, true)) }
          : { field: 'uint64Data', values: Array.from({ length: bytes.length / 8 }, (_, i) => dv.getBigUint64(8 * i, true)) };
      default: {
        const w = info.bits >= 8 ? info.bits / 8 : 1;
        const signed = info.name === 'INT32';
        return { field: 'int32Data', values: Array.from({ length: bytes.length / w }, (_, i) => (w === 1 ? dv.getUint8(i) : w === 2 ? dv.getUint16(2 * i, true) : signed ? dv.getInt32(4 * i, true) : dv.getUint32(4 * i, true))) };
      }
    }
  };
  const numeric = Object.keys(ONNX_DTYPES).map(Number).filter((d) => ONNX_DTYPES[d]!.bits > 0);

  it.each(numeric.map((d) => [ONNX_DTYPES[d]!.name, d] as const))('%s: raw_data, typed field and external data give the same bytes', async (_n, dt) => {
    const len = onnxByteLength(dt, count);
    const bytes = new Uint8Array(len).map((_, i) => (dt === 9 ? i & 1 : (i * 37 + 11) & 0xff)); // BOOL bytes are 0 or 1
    if (dt === 1 || dt === 11 || dt === 14 || dt === 15) {
      // keep floats finite so the typed-field round trip is exact
      const dv = new DataView(bytes.buffer);
      const w = dt === 1 || dt === 14 ? 4 : 8;
      for (let i = 0; i < len / w; i++) w === 4 ? dv.setFloat32(4 * i, i + 0.25, true) : dv.setFloat64(8 * i, i + 0.25, true);
    }
    const typed = typedFor(dt, bytes)!;
    const dir = tmp();
    const { model, externalData } = writeOnnxModel({
      nodes: [],
      initializers: [
        { name: 'raw', dataType: dt, dims: [count], raw: bytes },
        { name: 'typed', dataType: dt, dims: [count], typed },
        { name: 'ext', dataType: dt, dims: [count], raw: bytes, external: true },
      ],
      externalDataFile: 'm.data',
    });
    writeFileSync(join(dir, 'm.onnx'), model);
    writeFileSync(join(dir, 'm.data'), externalData!);
    const m = await openOnnxModel(join(dir, 'm.onnx'));
    const got = await Promise.all(m.tensors().map(async (t) => [t.name, t.storage, Buffer.from(await m.readTensor(t)).toString('hex')]));
    const hex = Buffer.from(bytes).toString('hex');
    expect(got).toEqual([['raw', 'raw', hex], ['typed', 'typed', hex], ['ext', 'external', hex]]);
  });

  it('STRING tensors read as UTF-8 joined by NUL', async () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 's', dataType: 8, dims: [2], typed: { field: 'stringData', values: [Buffer.from('hé'), Buffer.from('x')] } }] });
    const m = parseOnnxModel(model);
    expect(Buffer.from(await m.readTensor(m.tensors()[0]!)).toString()).toBe('hé\0x');
  });

  it('empty tensors read as zero bytes', async () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'e', dataType: 1, dims: [0, 3] }] });
    const m = parseOnnxModel(model);
    expect((await m.readTensor(m.tensors()[0]!)).byteLength).toBe(0);
  });

  it('a typed field with the wrong number of values is a typed error naming the tensor', async () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'bad', dataType: 1, dims: [3], typed: { field: 'floatData', values: [1, 2] } }] });
    const m = parseOnnxModel(model);
    await expect(m.readTensor(m.tensors()[0]!)).rejects.toThrow(/tensor bad .*floatData has 2 values, the shape needs 3/);
  });

  it('raw_data of the wrong length is a typed error', async () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'bad', dataType: 1, dims: [3], raw: f32(1, 2) }] });
    const m = parseOnnxModel(model);
    await expect(m.readTensor(m.tensors()[0]!)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL });
  });

  it('dims beyond 2^53 are refused, never narrowed', () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'huge', dataType: 1, dims: [2 ** 53 + 2] }] });
    expect(() => parseOnnxModel(model)).toThrow(/beyond what can be handled exactly/);
  });
  it('dims whose product overflows are refused', () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'big', dataType: 1, dims: [2 ** 30, 2 ** 30, 2 ** 30] }] });
    expect(() => parseOnnxModel(model)).toThrow(/product of its dims overflows/);
  });
});

describe('Constant nodes, sparse tensors and subgraphs', () => {
  const model = writeOnnxModel({
    nodes: [
      { opType: 'Constant', inputs: [], outputs: ['cf'], attributes: { value_float: { float: 2.5 } } },
      { opType: 'Constant', inputs: [], outputs: ['cfs'], attributes: { value_floats: { floats: [1.5, 2.5] } } },
      { opType: 'Constant', inputs: [], outputs: ['ci'], attributes: { value_int: 7 } },
      { opType: 'Constant', inputs: [], outputs: ['cis'], attributes: { value_ints: [1, -2, 3] } },
      { opType: 'Constant', inputs: [], outputs: ['ct'], attributes: { value: { tensor: { name: 'ignored', dataType: 1, dims: [2], raw: f32(3, 4) } } } },
      {
        opType: 'If',
        name: 'if0',
        inputs: ['cond'],
        outputs: ['y'],
        attributes: {
          then_branch: {
            graph: {
              nodes: [{ opType: 'Loop', name: 'loop0', inputs: [], outputs: [], attributes: { body: { graph: { nodes: [], initializers: [{ name: 'deep', dataType: 1, dims: [1], raw: f32(9) }] } } } }],
              initializers: [{ name: 'then_w', dataType: 1, dims: [1], raw: f32(5) }],
            },
          },
          else_branch: { graph: { nodes: [{ opType: 'Constant', inputs: [], outputs: ['else_c'], attributes: { value_float: { float: 1 } } }] } },
        },
      },
    ],
  }).model;

  it('lists Constant values as TensorRT reads them (value_float → FLOAT scalar, value_ints → INT64 [n])', async () => {
    const m = parseOnnxModel(model);
    const by = new Map(m.tensors().map((t) => [t.name, t]));
    expect(by.get('cf')).toMatchObject({ kind: 'constant', dtypeName: 'FLOAT', dims: [] });
    expect(by.get('cfs')).toMatchObject({ dtypeName: 'FLOAT', dims: [2] });
    expect(by.get('ci')).toMatchObject({ dtypeName: 'INT64', dims: [] });
    expect(by.get('cis')).toMatchObject({ dtypeName: 'INT64', dims: [3] });
    expect(Array.from(new BigInt64Array(new Uint8Array(await m.readTensor(by.get('cis')!)).buffer))).toEqual([1n, -2n, 3n]);
    expect(Array.from(toF32(await m.readTensor(by.get('ct')!)))).toEqual([3, 4]);
    expect(Array.from(toF32(await m.readTensor(by.get('cf')!)))).toEqual([2.5]);
  });

  it('walks subgraphs at any depth and names their scope', () => {
    const by = new Map(parseOnnxModel(model).tensors().map((t) => [t.name, t]));
    expect(by.get('then_w')?.scope).toBe('graph/if0.then_branch');
    expect(by.get('deep')?.scope).toBe('graph/if0.then_branch/loop0.body');
    expect(by.get('else_c')).toMatchObject({ kind: 'constant', scope: 'graph/if0.else_branch' });
  });
});

describe('decoding details', () => {
  it('raw_data is a view also when the input is a plain Uint8Array (not a Buffer)', async () => {
    const buf = fixtureBytes('convbn/convbn_a.onnx');
    const plain = new Uint8Array(buf.length);
    plain.set(buf);
    const m = parseOnnxModel(plain);
    const data = await m.readTensor(m.tensors().find((t) => t.name === 'fc.weight')!);
    expect(data.buffer).toBe(plain.buffer);
  });

  it('typed fields give the values the onnx library reads: BOOL as 0/1, narrow integers and bit patterns wrapped', async () => {
    const { model } = writeOnnxModel({
      nodes: [],
      initializers: [
        { name: 'b', dataType: 9, dims: [4], typed: { field: 'int32Data', values: [0, 1, 2, -1] } },
        { name: 'i8', dataType: 3, dims: [3], typed: { field: 'int32Data', values: [-1, 127, -128] } },
        { name: 'h', dataType: 10, dims: [2], typed: { field: 'int32Data', values: [0x3c00, -1] } },
        { name: 'u32', dataType: 12, dims: [2], typed: { field: 'uint64Data', values: [4294967295, 7] } },
        { name: 'i64', dataType: 7, dims: [2], typed: { field: 'int64Data', values: [-(2n ** 63n), 2n ** 63n - 1n] } },
        { name: 'i4', dataType: 22, dims: [3], typed: { field: 'int32Data', values: [0xf1, 0x07] } },
      ],
    });
    const m = parseOnnxModel(model);
    const hex = async (n: string) => Buffer.from(await m.readTensor(m.tensors().find((t) => t.name === n)!)).toString('hex');
    expect(await hex('b')).toBe('00010101');
    expect(await hex('i8')).toBe('ff7f80');
    expect(await hex('h')).toBe('003cffff');
    expect(await hex('u32')).toBe('ffffffff07000000');
    expect(await hex('i64')).toBe('0000000000000080ffffffffffffff7f');
    expect(await hex('i4')).toBe('f107');
  });

  it('nodes listed out of order are visited in the parser\'s topological order; a cycle is a typed error', () => {
    const nodes = [
      { input: ['b'], output: ['c'] },
      { input: ['x'], output: ['a'] },
      { input: ['a'], output: ['b'] },
      { input: ['a', 'c'], output: ['d'] },
    ];
    expect(topologicalOrder(nodes)).toEqual([1, 2, 0, 3]);
    expect(topologicalOrder([{ input: ['x'], output: ['y'] }, { input: ['y'], output: ['z'] }])).toEqual([0, 1]);
    expect(() => topologicalOrder([{ input: ['b'], output: ['a'] }, { input: ['a'], output: ['b'] }])).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL }));
    // a long chain does not overflow the stack
    const chain = Array.from({ length: 200_000 }, (_, i) => ({ input: [`t${i + 1}`], output: [`t${i}`] }));
    expect(topologicalOrder(chain)[0]).toBe(chain.length - 1);
  });

  it('int64 dims beyond 2^53 are refused exactly (never rounded), also at 2^63 - 1', () => {
    for (const d of [2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'huge', dataType: 1, dims: [d] }] });
      expect(() => parseOnnxModel(model)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL }));
    }
  });

  it('openOnnxModel refuses a directory, a FIFO and a missing file with a typed error, without hanging', async () => {
    const dir = tmp();
    execFileSync('mkfifo', [join(dir, 'fifo.onnx')]);
    for (const p of [dir, join(dir, 'fifo.onnx'), join(dir, 'missing.onnx')]) {
      await expect(openOnnxModel(p)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(/^cannot read /) });
    }
  });
});

describe('damaged models', () => {
  const bytes = fixtureBytes('convbn/convbn_a.onnx');
  it('garbage and empty input give a typed error', () => {
    for (const bad of [new Uint8Array(64).fill(0xff), new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array(0)]) {
      expect(() => parseOnnxModel(bad)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL }));
    }
  });
  it('every truncation either fails with a typed error or yields a model whose tensors all read or fail typed', async () => {
    for (let len = 0; len < bytes.length; len += 37) {
      let m;
      try {
        m = parseOnnxModel(bytes.subarray(0, len));
      } catch (e) {
        expect(isTrtRefitError(e), `length ${len}: ${String(e)}`).toBe(true);
        continue;
      }
      for (const t of m.tensors()) await m.readTensor(t).catch((e: unknown) => expect(isTrtRefitError(e)).toBe(true));
    }
  });
  it('a forged length never allocates beyond the input', () => {
    // field 7 (graph), wire type 2, length 2^31 - 1, then nothing
    const forged = new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => parseOnnxModel(forged)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL }));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});

describe('forged element counts', () => {
  it('a shape far larger than the data is refused before anything of that size is allocated', async () => {
    const big = 2 ** 40;
    const dir = tmp();
    writeFileSync(join(dir, 'small.bin'), new Uint8Array(16));
    const { model } = writeOnnxModel({
      nodes: [],
      initializers: [
        { name: 'raw', dataType: 1, dims: [big], raw: f32(1) },
        { name: 'typed', dataType: 1, dims: [big], typed: { field: 'floatData', values: [1] } },
        { name: 'empty', dataType: 7, dims: [big] },
        { name: 'strings', dataType: 8, dims: [big], typed: { field: 'stringData', values: [Buffer.from('a')] } },
        { name: 'ext', dataType: 1, dims: [big], externalData: [{ key: 'location', value: 'small.bin' }] },
        { name: 'extlen', dataType: 1, dims: [big], externalData: [{ key: 'location', value: 'small.bin' }, { key: 'length', value: String(4 * big) }] },
      ],
    });
    const m = parseOnnxModel(model, { modelPath: join(dir, 'm.onnx') });
    const before = process.memoryUsage().arrayBuffers;
    for (const t of m.tensors()) {
      expect(t.count).toBe(big);
      await expect(m.readTensor(t), t.name).rejects.toMatchObject({ code: expect.stringMatching(/INVALID_MODEL|EXTERNAL_DATA/) });
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
});

describe('external data is confined to the model folder', () => {
  const ext = fixtureBytes('convbn/convbn_a_ext.onnx');
  const attempt = async (model: Uint8Array, prepare?: (dir: string) => void) => {
    const dir = tmp();
    copyFileSync(fixture('convbn/convbn_a_ext.weights'), join(dir, 'convbn_a_ext.weights'));
    prepare?.(dir);
    writeFileSync(join(dir, 'm.onnx'), model);
    const m = await openOnnxModel(join(dir, 'm.onnx'));
    const t = m.tensors().find((x) => x.storage === 'external')!;
    return m.readTensor(t);
  };
  it.each([
    ['a parent path', '../convbn_a_ext.weig', /"\.\.\/convbn_a_ext\.weig" contains "\.\."/],
    ['an absolute path', '/etc/a_ext.weights00', /is an absolute path/],
    ['an in-memory location', '_ORT_MEM_ADDR_/weigh', /in-memory location/],
    ['a missing file', 'convbn_a_ext.weightz', /convbn_a_ext\.weightz does not exist/],
  ])('refuses %s, naming tensor and file', async (_l, location, why) => {
    const err = await attempt(replaceAll(ext, 'convbn_a_ext.weights', location)).then(() => undefined, (e: unknown) => e as { code: string; message: string; details: { tensor: string; file: string } });
    expect(err?.code).toBe(TrtRefitErrorCode.EXTERNAL_DATA);
    expect(err?.message).toMatch(why);
    expect(err?.message).toMatch(/^tensor \S+/);
    expect(err?.details.file).toBe(location);
  });
  it('refuses a symlink that leaves the folder', async () => {
    const outside = tmp();
    copyFileSync(fixture('convbn/convbn_a_ext.weights'), join(outside, 'w'));
    await expect(
      attempt(replaceAll(ext, 'convbn_a_ext.weights', 'link/convbn_a_ext.wx'), (dir) => {
        mkdirSync(join(dir, 'link'));
        symlinkSync(join(outside, 'w'), join(dir, 'link', 'convbn_a_ext.wx'));
      }),
    ).rejects.toThrow(/outside the model folder/);
  });
  it('accepts a symlink that stays inside the folder', async () => {
    const data = await attempt(replaceAll(ext, 'convbn_a_ext.weights', 'link/convbn_a_ext.wx'), (dir) => {
      mkdirSync(join(dir, 'link'));
      symlinkSync(join(dir, 'convbn_a_ext.weights'), join(dir, 'link', 'convbn_a_ext.wx'));
    });
    expect(data.byteLength).toBeGreaterThan(0);
  });
  it('refuses a range past the end of the file', async () => {
    await expect(attempt(ext, (dir) => writeFileSync(join(dir, 'convbn_a_ext.weights'), new Uint8Array(100)))).rejects.toThrow(/runs past the end of convbn_a_ext\.weights/);
  });
  it('refuses unknown external-data keys and bad offsets for that tensor only, naming tensor and file', async () => {
    const { model } = writeOnnxModel({
      nodes: [],
      initializers: [
        { name: 'badkey', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offsex', value: '0' }] },
        { name: 'badoffset', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '-4' }] },
        { name: 'nolocation', dataType: 1, dims: [1], externalData: [{ key: 'offset', value: '0' }] },
        { name: 'fine', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'w.bin' }, { key: 'checksum', value: 'ignored' }] },
      ],
    });
    const dir = tmp();
    writeFileSync(join(dir, 'w.bin'), f32(7));
    writeFileSync(join(dir, 'm.onnx'), model);
    const m = await openOnnxModel(join(dir, 'm.onnx'));
    const by = new Map(m.tensors().map((t) => [t.name, t]));
    const refusal = (name: string) => m.readTensor(by.get(name)!).then(() => undefined, (e: { code: string; message: string; details: unknown }) => e);
    expect(await refusal('badkey')).toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA, message: expect.stringMatching(/^tensor badkey: unknown external data key "offsex"/), details: { tensor: 'badkey', file: 'w.bin' } });
    expect(await refusal('badoffset')).toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA, message: expect.stringMatching(/offset must be a non-negative integer, received "-4"/) });
    expect(await refusal('nolocation')).toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA, message: expect.stringMatching(/without a location/) });
    expect(Array.from(toF32(await m.readTensor(by.get('fine')!)))).toEqual([7]);
  });
  it('refuses a location that is a directory or a FIFO, without hanging', async () => {
    for (const make of [(p: string) => mkdirSync(p), (p: string) => execFileSync('mkfifo', [p])]) {
      const dir = tmp();
      make(join(dir, 'w.bin'));
      const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 'w', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'w.bin' }] }] });
      const m = parseOnnxModel(model, { modelPath: join(dir, 'm.onnx') });
      await expect(m.readTensor(m.tensors()[0]!)).rejects.toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA, message: expect.stringMatching(/w\.bin is a (directory|FIFO), not a regular file/) });
    }
  });
  it('STRING tensors cannot be external', async () => {
    const { model } = writeOnnxModel({ nodes: [], initializers: [{ name: 's', dataType: 8, dims: [1], externalData: [{ key: 'location', value: 'w.bin' }] }] });
    const m = parseOnnxModel(model);
    await expect(m.readTensor(m.tensors()[0]!)).rejects.toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA, message: expect.stringMatching(/STRING/) });
  });
  it('reads ranges beyond 4 GiB of a sidecar with positioned reads (sparse file)', async () => {
    const dir = tmp();
    const offset = 5 * 2 ** 30 + 12;
    const fd = openSync(join(dir, 'big.bin'), 'w');
    writeSync(fd, f32(1.5, -2.5), 0, 8, offset);
    closeSync(fd);
    const { model } = writeOnnxModel({
      nodes: [],
      initializers: [{ name: 'far', dataType: 1, dims: [2], externalData: [{ key: 'location', value: 'big.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: '8' }] }],
    });
    writeFileSync(join(dir, 'm.onnx'), model);
    const before = process.memoryUsage().arrayBuffers;
    const m = await openOnnxModel(join(dir, 'm.onnx'));
    expect(Array.from(toF32(await m.readTensor(m.tensors()[0]!)))).toEqual([1.5, -2.5]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
  it('externalDataDir overrides the folder external data resolves against', async () => {
    const dir = tmp();
    copyFileSync(fixture('convbn/convbn_a_ext.weights'), join(dir, 'convbn_a_ext.weights'));
    const m = await openOnnxModel(fixture('convbn/convbn_a_ext.onnx'), { externalDataDir: dir });
    expect(m.modelDir).toBe(dir);
    const t = m.tensors().find((x) => x.name === 'c1.weight')!;
    const a = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    expect(Buffer.from(await m.readTensor(t)).equals(Buffer.from(await a.readTensor(a.tensors().find((x) => x.name === 'c1.weight')!)))).toBe(true);
    const p = parseOnnxModel(fixtureBytes('convbn/convbn_a_ext.onnx'), { modelPath: '/nowhere/m.onnx', externalDataDir: dir });
    expect((await p.readTensor(p.tensors().find((x) => x.name === 'c1.weight')!)).byteLength).toBe(864);
  });
  it('without a model path, locations resolve against the working directory', async () => {
    const m = parseOnnxModel(ext);
    await expect(m.readTensor(m.tensors().find((t) => t.storage === 'external')!)).rejects.toMatchObject({ code: TrtRefitErrorCode.EXTERNAL_DATA });
  });
});

/** Every tensor of a model, name → hex of its bytes (or the error's code). */
async function allTensors(path: string, lazy: boolean): Promise<Map<string, string>> {
  const m = await openOnnxModel(path, { lazy });
  const out = new Map<string, string>();
  for (const t of m.tensors()) {
    out.set(`${t.scope}/${t.kind}/${t.name}`, await m.readTensor(t).then((b) => Buffer.from(b).toString('hex'), (e: { code?: string }) => `error ${e.code}`));
  }
  return out;
}

describe('lazy open: large embedded data stays in the file until read', () => {
  it('reads exactly what the eager reader reads (big and small tensors, subgraphs, Constant nodes, external data)', async () => {
    const dir = tmp();
    const big = (n: number, k: number) => new Uint8Array(new Float32Array(n).map((_, i) => Math.sin(i * k)).buffer);
    const { model, externalData } = writeOnnxModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value: { tensor: { name: 'cv', dataType: 1, dims: [20000], raw: big(20000, 5) } } } },
        { opType: 'If', inputs: ['cond'], outputs: ['y'], attributes: {
          then_branch: { graph: { nodes: [{ opType: 'Identity', inputs: ['sub'], outputs: ['ty'] }], initializers: [{ name: 'sub', dataType: 1, dims: [30000], raw: big(30000, 7) }], outputs: [{ name: 'ty', elemType: 1, dims: [30000] }] } },
          else_branch: { graph: { nodes: [{ opType: 'Identity', inputs: ['w1'], outputs: ['ey'] }], outputs: [{ name: 'ey', elemType: 1, dims: [30000] }] } },
        } },
      ],
      initializers: [
        { name: 'cond', dataType: 9, dims: [], raw: new Uint8Array([1]) },
        { name: 'w1', dataType: 1, dims: [30000], raw: big(30000, 1) },
        { name: 'w2', dataType: 10, dims: [100000], raw: big(50000, 2) },
        { name: 'small', dataType: 1, dims: [3], raw: f32(1, 2, 3) },
        { name: 'typed', dataType: 1, dims: [2], typed: { field: 'floatData', values: [4, 5] } },
        { name: 'ext', dataType: 1, dims: [20000], raw: big(20000, 3), external: true },
        { name: 'wrong', dataType: 1, dims: [5], raw: big(20000, 4) }, // raw_data of the wrong size: refused either way
      ],
      outputs: [{ name: 'y', elemType: 1, dims: [30000] }],
      externalDataFile: 'm.onnx.data',
    });
    writeFileSync(join(dir, 'm.onnx'), model);
    writeFileSync(join(dir, 'm.onnx.data'), externalData!);
    const eager = await allTensors(join(dir, 'm.onnx'), false);
    const lazy = await allTensors(join(dir, 'm.onnx'), true);
    expect(lazy).toEqual(eager);
    const get = (name: string) => [...eager].find(([k]) => k.endsWith(`/initializer/${name}`))?.[1];
    expect(get('wrong')).toBe(`error ${TrtRefitErrorCode.INVALID_MODEL}`);
    expect(get('w2')!.length).toBe(2 * 100000 * 2);
    expect(get('sub')!.length).toBe(2 * 30000 * 4);
    // lazily read tensors come from the file when read: a file changed since is refused, not misread
    const m = await openOnnxModel(join(dir, 'm.onnx'), { lazy: true });
    const w1 = m.tensors().find((t) => t.name === 'w1')!;
    writeFileSync(join(dir, 'm.onnx'), model.subarray(0, 1000));
    await expect(m.readTensor(w1)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(/changed since it was opened/) });
  });

  it('a string running past the end is refused whether the bytes come as a Buffer or a Uint8Array (found by fuzzing)', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'] }], initializers: [{ name: 'w', dataType: 1, dims: [1], raw: f32(1) }] });
    // producer_name (field 2) claims 100 bytes, 3 follow: protobufjs's Buffer reader would clamp it silently
    const bad = new Uint8Array([...model, 0x12, 100, 0x61, 0x62, 0x63]);
    for (const bytes of [bad, Buffer.from(bad)]) expect(() => parseOnnxModel(bytes)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL }));
    const dir = tmp();
    writeFileSync(join(dir, 'bad.onnx'), bad);
    for (const lazy of [true, false]) await expect(openOnnxModel(join(dir, 'bad.onnx'), { lazy })).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL });
  });

  it('damaged files are refused with typed errors, as by the eager reader', async () => {
    const dir = tmp();
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'] }], initializers: [{ name: 'w', dataType: 1, dims: [20000], raw: new Uint8Array(80000) }] });
    for (const cut of [1, 10, 40, 100, model.length - 1]) {
      writeFileSync(join(dir, 'cut.onnx'), model.subarray(0, cut));
      await expect(openOnnxModel(join(dir, 'cut.onnx'), { lazy: true })).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL });
    }
  });
});

describe('third-party corpus (../shared/corpus)', () => {
  const files = corpusModels();
  it.skipIf(files.length === 0)(`lazy and eager reads agree on every corpus model (${files.length} models)`, async () => {
    for (const f of files) {
      const eager = await allTensors(f, false).catch((e: { code?: string }) => `error ${e.code}`);
      const lazy = await allTensors(f, true).catch((e: { code?: string }) => `error ${e.code}`);
      expect(lazy, f).toEqual(eager);
    }
  }, 120_000);
  it.skipIf(files.length === 0)(`every tensor of every corpus model reads, or fails with a typed error (${files.length} models)`, async () => {
    let tensors = 0;
    let typedFailures = 0;
    for (const f of files) {
      let m;
      try {
        m = await openOnnxModel(f);
      } catch (e) {
        expect(isTrtRefitError(e), `${f}: ${String(e)}`).toBe(true);
        typedFailures++;
        continue;
      }
      for (const t of m.tensors()) {
        tensors++;
        await m.readTensor(t).then(
          (b) => expect(Number.isNaN(t.byteLength) || b.byteLength === t.byteLength).toBe(true),
          (e: unknown) => {
            expect(isTrtRefitError(e), `${f} ${t.name}: ${String(e)}`).toBe(true);
            typedFailures++;
          },
        );
      }
    }
    expect(tensors).toBeGreaterThan(0);
    console.log(`corpus: ${files.length} models, ${tensors} tensors, ${typedFailures} typed refusals`);
  }, 120_000);
  it.skipIf(files.length > 0)('skipped: ../shared/corpus is not present on this machine', () => {});
});

describe('sparse tensors', () => {
  it('are listed as unsupported, not dropped, and reading them is a typed error', async () => {
    const onnxProto = (await import('onnx-proto')).default as unknown as { onnx: { ModelProto: { encode(m: object): { finish(): Uint8Array } } } };
    const bytes = onnxProto.onnx.ModelProto.encode({
      irVersion: 8,
      graph: {
        name: 'g',
        sparseInitializer: [{ values: { name: 'sp', dataType: 1, dims: [2], floatData: [1, 2] }, indices: { name: 'sp_idx', dataType: 7, dims: [2], int64Data: [0, 3] }, dims: [4] }],
        node: [{ opType: 'Constant', output: ['csp'], attribute: [{ name: 'sparse_value', type: 11, sparseTensor: { values: { dataType: 1, dims: [1], floatData: [5] }, indices: { dataType: 7, dims: [1], int64Data: [0] }, dims: [3] } }] }],
      },
    }).finish();
    const m = parseOnnxModel(bytes);
    const sparse = m.tensors().filter((t) => t.kind === 'sparse_initializer');
    expect(sparse.map((t) => t.name).sort()).toEqual(['csp', 'sp']);
    for (const t of sparse) await expect(m.readTensor(t)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(/sparse/) });
  });
});
