import { DataType, DisposedError, InvalidStateError } from '@trt-refit/core';
import { describe, expect, it } from 'vitest';
import { DeviceLoraMerger, NativeDeviceApi, concatLoraFactors, loraScale } from '../src/index.js';
import { fakeCuda } from './fake-binding.js';
import { fromBf16Bits, fromHalfBits, rand, toBf16Bits, toHalfBits } from './lora-reference.js';

/** The LoRA merge's TS side over the fake binding (whose loraMerge is the JS reference of the addon's arithmetic). */
const api = (deviceCount = 1) => {
  const cuda = fakeCuda({ deviceCount });
  return { cuda, device: new NativeDeviceApi(cuda) };
};

/** W' = W + Σ s·B·A in float64, for the independent check (a few FP32 ulps from the FP32 computation). */
function exact(w: Float32Array, rows: number, cols: number, factors: { a: Float32Array; b: Float32Array; rank: number; scale: number }[]): Float64Array {
  const out = Float64Array.from(w);
  for (const f of factors) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    let acc = 0;
    for (let p = 0; p < f.rank; p++) acc += f.b[i * f.rank + p]! * f.a[p * cols + j]!;
    out[i * cols + j] = out[i * cols + j]! + f.scale * acc;
  }
  return out;
}

describe('LoRA merge on the device: TS side (fake addon)', () => {
  it('FP16 / BF16 reference conversions round to nearest even', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(2 ** -24)).toBe(1);
    expect(fromHalfBits(toHalfBits(-0.333))).toBeCloseTo(-0.333, 3);
    expect(toBf16Bits(1)).toBe(0x3f80);
    expect(fromBf16Bits(toBf16Bits(Math.PI))).toBeCloseTo(Math.PI, 2);
  });

  it('concatLoraFactors stacks A along the rank and B side by side, pre-scaled', () => {
    const rows = 3, cols = 4;
    const f1 = { a: rand(2 * cols, 1), b: rand(rows * 2, 2), rank: 2, scale: 0.5 };
    const f2 = { a: rand(1 * cols, 3), b: rand(rows * 1, 4), rank: 1, scale: -2 };
    const cat = concatLoraFactors([f1, f2], rows, cols);
    expect(cat.rank).toBe(3);
    expect(cat.scale).toBe(1);
    const want = exact(new Float32Array(rows * cols), rows, cols, [f1, f2]);
    const got = exact(new Float32Array(rows * cols), rows, cols, [cat]);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    expect(() => concatLoraFactors([{ ...f1, a: rand(3, 1) }], rows, cols)).toThrow(/factors\[0\]\.a\.length must be 8/);
    expect(() => concatLoraFactors([{ ...f1, b: [1] as never }], rows, cols)).toThrow(TypeError);
    expect(() => concatLoraFactors([{ ...f1, scale: NaN }], rows, cols)).toThrow(RangeError);
    expect(loraScale(1, 32, 16)).toBe(2);
    expect(() => loraScale(1, 32, 0)).toThrow(RangeError);
  });

  for (const type of [DataType.FLOAT, DataType.HALF, DataType.BF16] as const) {
    for (const layout of ['rows-cols', 'cols-rows'] as const) {
      it(`merges ${type} ${layout} with two adapters within one rounding of the exact result`, async () => {
        const { device, cuda } = api();
        const rows = 5, cols = 6;
        const w = rand(rows * cols, 7, 2);
        const factors = [
          { a: rand(2 * cols, 8), b: rand(rows * 2, 9), rank: 2, scale: 0.75 },
          { a: rand(3 * cols, 10), b: rand(rows * 3, 11), rank: 3, scale: -0.25 },
        ];
        const store = (x: Float64Array | Float32Array): Uint8Array => {
          const t = new Float32Array(rows * cols);
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[layout === 'rows-cols' ? i * cols + j : j * rows + i] = x[i * cols + j]!;
          if (type === DataType.FLOAT) return new Uint8Array(t.buffer);
          return new Uint8Array(Uint16Array.from(t, (v) => (type === DataType.HALF ? toHalfBits(v) : toBf16Bits(v))).buffer);
        };
        const read = (bytes: Uint8Array, k: number): number =>
          type === DataType.FLOAT ? new Float32Array(bytes.buffer, bytes.byteOffset)[k]! : (type === DataType.HALF ? fromHalfBits : fromBf16Bits)(new Uint16Array(bytes.buffer, bytes.byteOffset)[k]!);
        const baseBytes = store(w);
        // The base as stored, read back in FP32 (HALF / BF16 round it first).
        const wStored = new Float32Array(rows * cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) wStored[i * cols + j] = read(baseBytes, layout === 'rows-cols' ? i * cols + j : j * rows + i);
        const base = device.fromHost(baseBytes);
        const out = device.allocate(baseBytes.byteLength);
        const stream = device.createStream();
        const dev = factors.map((f) => ({ a: device.fromHost(f.a), b: device.fromHost(f.b), rank: f.rank, scale: f.scale }));
        await device.loraMerge({ base, out, type, rows, cols, layout, factors: dev, stream });
        const got = out.download();
        const want = store(exact(wStored, rows, cols, factors));
        const ulp = type === DataType.FLOAT ? 2 ** -20 : type === DataType.HALF ? 2 ** -9 : 2 ** -6;
        for (let k = 0; k < rows * cols; k++) expect(Math.abs(read(got, k) - read(want, k))).toBeLessThanOrEqual(ulp * Math.max(1, Math.abs(read(want, k))));
        expect(Array.from(base.download())).toEqual(Array.from(baseBytes)); // the base is never modified
        const spec = cuda.loraMerges.at(-1)!;
        expect(spec).toMatchObject({ type: { FLOAT: 0, HALF: 1, BF16: 2 }[type], rows, cols, transposed: layout === 'cols-rows' });
        expect(spec.factors.map((f) => f.alpha)).toEqual([0.75, -0.25]);
        // HALF / BF16 without a workspace: a temporary one of rows · cols floats, disposed once enqueued.
        if (type !== DataType.FLOAT) {
          expect(spec.workspace?.byteLength).toBe(rows * cols * 4);
          expect(spec.workspace?.disposed).toBe(true);
        } else {
          expect(spec.workspace).toBeNull();
        }
      });
    }
  }

  it('refuses bad arguments with typed errors naming the parameter, before the addon is called', async () => {
    const { device, cuda } = api(2);
    const rows = 4, cols = 3;
    const base = device.allocate(rows * cols * 2);
    const out = device.allocate(rows * cols * 2);
    const a = device.allocate(2 * cols * 4);
    const b = device.allocate(rows * 2 * 4);
    const stream = device.createStream();
    const ok = { base, out, type: DataType.HALF, rows, cols, factors: [{ a, b, rank: 2, scale: 1 }], stream } as const;
    const bad = (patch: Record<string, unknown>) => device.loraMerge({ ...ok, ...patch } as never);
    await expect(device.loraMerge(null as never)).rejects.toThrow(/options must be an object/);
    await expect(bad({ type: DataType.INT8 })).rejects.toThrow(/options\.type must be 'FLOAT', 'HALF' or 'BF16', received "INT8"/);
    await expect(bad({ rows: -1 })).rejects.toThrow(RangeError);
    await expect(bad({ cols: 2 ** 31 })).rejects.toThrow(/options\.cols must be at most 2147483647/);
    await expect(bad({ layout: 'transposed' })).rejects.toThrow(/options\.layout must be 'rows-cols' or 'cols-rows'/);
    await expect(bad({ stream: {} })).rejects.toThrow(/options\.stream must be a CudaStream/);
    await expect(bad({ base: new Uint8Array(24) })).rejects.toThrow(/options\.base must be a DeviceBuffer/);
    await expect(bad({ type: DataType.FLOAT })).rejects.toThrow(/options\.base\.byteLength must be 48 \(4 × 3 FLOAT\), received number 24/);
    await expect(bad({ factors: 'x' })).rejects.toThrow(/options\.factors must be an array/);
    await expect(bad({ factors: [{ a, b, rank: 3, scale: 1 }] })).rejects.toThrow(/options\.factors\[0\]\.a\.byteLength must be 36/);
    await expect(bad({ factors: [{ a, b, rank: 2, scale: Infinity }] })).rejects.toThrow(/options\.factors\[0\]\.scale must be a finite number/);
    await expect(bad({ factors: [{ a: base, b, rank: 2, scale: 1 }] })).rejects.toThrow();
    await expect(bad({ workspace: device.allocate(8) })).rejects.toThrow(/options\.workspace\.byteLength must be at least 48/);
    await expect(bad({ workspace: a })).rejects.toThrow(/options\.workspace must be a buffer other than options\.factors\[0\]\.a/);
    const other = device.allocate(rows * 2 * 4, { device: 1 });
    await expect(bad({ factors: [{ a, b: other, rank: 2, scale: 1 }] })).rejects.toThrow(/options\.factors\[0\]\.b must be a buffer of the stream's device 0, received .*a buffer of device 1/);
    const gone = device.allocate(rows * cols * 2);
    gone.dispose();
    await expect(bad({ out: gone })).rejects.toThrow(DisposedError);
    expect(cuda.loraMerges).toHaveLength(0);
    await device.loraMerge(ok);
    expect(cuda.loraMerges).toHaveLength(1);
    // No factors: out is a copy of base, no workspace.
    await device.loraMerge({ ...ok, factors: [] });
    expect(cuda.loraMerges.at(-1)!.workspace).toBeNull();
    expect(device.loraStatus().cublasLoaded).toBe(true);
  });

  it('DeviceLoraMerger keeps the base resident, reuses buffers, swaps back to the base, serialises merges of a name', async () => {
    const { device, cuda } = api();
    const merger = new DeviceLoraMerger(device);
    const rows = 4, cols = 8;
    const w = rand(rows * cols, 21);
    merger.setBase('fc.weight', { type: DataType.FLOAT, rows, cols, values: w });
    expect(merger.names()).toEqual(['fc.weight']);
    const stream = device.createStream();
    const allocatedAfterBase = cuda.allocated.length;
    const f = { a: rand(2 * cols, 22), b: rand(rows * 2, 23), rank: 2, scale: 0.5 };
    const m1 = await merger.merge('fc.weight', [f], stream);
    expect(m1.type).toBe(DataType.FLOAT);
    expect(m1.count).toBe(rows * cols);
    const want = exact(w, rows, cols, [f]);
    const got = new Float32Array(m1.values.download().buffer);
    for (let k = 0; k < want.length; k++) expect(got[k]).toBeCloseTo(want[k]!, 5);
    const allocatedAfterFirst = cuda.allocated.length;
    expect(allocatedAfterFirst - allocatedAfterBase).toBe(3); // out, A_cat, B_cat
    const m2 = await merger.merge('fc.weight', [f, { ...f, scale: -0.5 }], stream);
    expect(m2.values).toBe(m1.values); // the output buffer is reused
    expect(Array.from(new Float32Array(m2.values.download().buffer)).every((v, k) => Math.abs(v - w[k]!) < 1e-6)).toBe(true);
    expect(cuda.allocated.length - allocatedAfterFirst).toBe(2); // A_cat, B_cat of rank 4 (the rank changed)
    await merger.merge('fc.weight', [f, { ...f, scale: -0.5 }], stream);
    expect(cuda.allocated.length - allocatedAfterFirst).toBe(2); // same rank: nothing allocated
    expect(merger.base('fc.weight').values.download()).toEqual(new Uint8Array(w.buffer)); // never modified
    const first = merger.merge('fc.weight', [f], stream);
    await expect(merger.merge('fc.weight', [f], stream)).rejects.toThrow(InvalidStateError);
    await first;
    await expect(merger.merge('nope', [f], stream)).rejects.toThrow(/name must be a weight given to setBase/);
    expect(() => merger.setBase('x', { type: DataType.HALF, rows, cols, values: new Uint16Array(3) })).toThrow(/weight\.values\.byteLength must be 64/);
    // HALF: one workspace per stream, reused.
    merger.setBase('h', { type: DataType.HALF, rows, cols, values: Uint16Array.from(w, toHalfBits) });
    await merger.merge('h', [f], stream);
    const ws = cuda.loraMerges.at(-1)!.workspace;
    await merger.merge('h', [f], stream);
    expect(cuda.loraMerges.at(-1)!.workspace).toBe(ws);
    const buffers = [...cuda.allocated];
    merger.dispose();
    merger.dispose();
    expect(buffers.every((x) => x.disposed)).toBe(true);
    expect(() => merger.base('fc.weight')).toThrow(DisposedError);
    expect(() => new DeviceLoraMerger({} as never)).toThrow(TypeError);
  });

  it('forLoraRefitter: the merge option of LoraRefitter (bases uploaded once by name, DEVICE weights, restore = the base)', async () => {
    const { device, cuda } = api();
    const merger = new DeviceLoraMerger(device);
    const stream = device.createStream();
    const merge = merger.forLoraRefitter(stream);
    const rows = 3, cols = 5;
    const w = rand(rows * cols, 31);
    const f = { a: rand(2 * cols, 32), b: rand(rows * 2, 33), rank: 2, scale: 0.25 };
    const spec = { type: DataType.FLOAT, rows, cols, layout: 'rows-cols' as const, factors: [f] };
    const r1 = await merge('w', new Uint8Array(w.buffer), spec);
    expect(r1.location).toBe('DEVICE');
    const want = exact(w, rows, cols, [f]);
    const got = new Float32Array(r1.weights.values.download().buffer);
    for (let k = 0; k < want.length; k++) expect(got[k]).toBeCloseTo(want[k]!, 5);
    const uploads = cuda.allocated.length;
    await merge('w', new Uint8Array(rows * cols * 4), spec); // the resident base is used, not these bytes
    expect(cuda.allocated.length).toBe(uploads);
    expect(Array.from(new Float32Array((await merge('w', new Uint8Array(0), { ...spec, factors: [] })).weights.values.download().buffer))).toEqual(Array.from(w));
    const bias = rand(7, 34);
    const restored = await merge('b', new Uint8Array(bias.buffer), { type: DataType.FLOAT, rows: 1, cols: 7, layout: 'rows-cols', factors: [] });
    expect(restored.weights.count).toBe(7);
    await expect(merge('x', new Uint8Array(8), { ...spec, type: DataType.INT8 })).rejects.toThrow(/spec\.type/);
    expect(() => merger.forLoraRefitter({} as never)).toThrow(TypeError);
    merger.dispose();
  });
});
