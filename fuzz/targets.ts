/**
 * The fuzzed readers and their seed files: real exported models from fixtures/, plus small written ones that
 * reach the paths the fixtures do not (typed fields, external data, subgraphs, sparse and sub-byte tensors,
 * Constant nodes, safetensors of several dtypes, stripped and full plans).
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, isTrtRefitError, type Backend } from '@trt-refit/core';
import { openOnnxModel, parseOnnxModel, parseSafetensors, writeOnnxModel } from '@trt-refit/onnx';
import { readPlan } from '@trt-refit/mock-backend';
import { allocatedBytes, type Reader } from './harness.js';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

/** A folder with an external-data file, so mutated locations and ranges are really resolved and read. */
export function externalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trt-refit-fuzz-'));
  writeFileSync(join(dir, 'w.bin'), new Uint8Array(4096).map((_, i) => i & 0xff));
  writeFileSync(join(dir, 'convbn_a_ext.weights'), readFileSync(fixture('convbn/convbn_a_ext.weights')));
  return dir;
}

/**
 * The ONNX reader as a user drives it: parse, then read every tensor (external ones from `dir`). A tensor that
 * cannot be read must say so with a typed error; the others are still read (so one bad tensor does not hide the
 * rest from the fuzzer).
 */
export function onnxReader(dir: string): Reader {
  return async (bytes) => {
    const model = parseOnnxModel(bytes, { externalDataDir: dir });
    let allocated = 0;
    for (const t of model.tensors()) {
      try {
        allocated += allocatedBytes(await model.readTensor(t), bytes);
      } catch (e) {
        if (!isTrtRefitError(e)) throw e;
      }
    }
    return allocated;
  };
}

/** The safetensors reader: parse the header, then view every tensor. */
export const safetensorsReader: Reader = async (bytes) => {
  const st = parseSafetensors(bytes);
  let allocated = 0;
  for (const t of st.tensors) allocated += allocatedBytes(await st.read(t.name), bytes);
  return allocated;
};

/** The mock plan reader: every check, every weight viewed. */
export const planReader: Reader = (bytes) => {
  const plan = readPlan(bytes);
  return plan.weights.reduce((n, w) => n + (w.data ? allocatedBytes(w.data, bytes) : 0), 0);
};

export function onnxSeeds(): Uint8Array[] {
  const written = [
    // typed fields of several types, a Constant node with value_floats, a DOUBLE initializer
    writeOnnxModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value_floats: { floats: [1, 2, 3] } } },
        { opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'w', dataType: 1, dims: [3], typed: { field: 'floatData', values: [1, 2, 3] } },
        { name: 'i64', dataType: 7, dims: [2], typed: { field: 'int64Data', values: [1, -1] } },
        { name: 'd', dataType: 11, dims: [2], typed: { field: 'doubleData', values: [0.5, 1e300] } },
        { name: 'h', dataType: 10, dims: [2], typed: { field: 'int32Data', values: [0x3c00, 0x7c00] } },
        { name: 'i4', dataType: 22, dims: [3], raw: new Uint8Array([0x21, 0x0f]) },
      ],
      inputs: [{ name: 'x', elemType: 1, dims: ['N', 3] }],
      outputs: [{ name: 'y', elemType: 1, dims: ['N', 3] }],
    }).model,
    // external data in w.bin (offset/length), and a subgraph with its own initializer
    writeOnnxModel({
      nodes: [
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: {
            then_branch: { graph: { nodes: [{ opType: 'Identity', inputs: ['t'], outputs: ['ty'] }], initializers: [{ name: 't', dataType: 1, dims: [2], raw: f32(1, 2) }], outputs: [{ name: 'ty', elemType: 1, dims: [2] }] } },
            else_branch: { graph: { nodes: [{ opType: 'Identity', inputs: ['e'], outputs: ['ey'] }], outputs: [{ name: 'ey', elemType: 1, dims: [2] }] } },
          },
        },
      ],
      initializers: [
        { name: 'cond', dataType: 9, dims: [], raw: new Uint8Array([1]) },
        { name: 'e', dataType: 1, dims: [4], externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '64' }, { key: 'length', value: '16' }] },
      ],
      sparseInitializers: [{ values: { name: 's', dataType: 1, dims: [1], raw: f32(5) }, indices: { name: 's_i', dataType: 7, dims: [1], raw: new Uint8Array(8) }, dims: [4] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2] }],
    }).model,
  ];
  return [readFileSync(fixture('convbn/convbn_a.onnx')), readFileSync(fixture('convbn/convbn_a_ext.onnx')), readFileSync(fixture('convbn/convbn_a_fp16_initializers.onnx')), ...written];
}

export function safetensorsSeeds(): Uint8Array[] {
  const st = (tensors: Record<string, { dtype: string; shape: number[]; data: Uint8Array }>, metadata?: Record<string, string>) => {
    const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
    let offset = 0;
    for (const [name, t] of Object.entries(tensors)) {
      header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
      offset += t.data.byteLength;
    }
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + offset);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    let at = 8 + json.length;
    for (const t of Object.values(tensors)) {
      out.set(t.data, at);
      at += t.data.byteLength;
    }
    return out;
  };
  return [
    readFileSync(fixture('convbn/convbn_b.safetensors')),
    st({ a: { dtype: 'F32', shape: [2, 2], data: f32(1, 2, 3, 4) }, b: { dtype: 'BF16', shape: [2], data: new Uint8Array(4) }, c: { dtype: 'I64', shape: [1], data: new Uint8Array(8) }, e: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }, { format: 'pt' }),
  ];
}

/** A stripped and a full plan of the convbn fixture, built by the mock backend. */
export async function planSeeds(backend: Backend): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const flags of [[BuilderFlag.STRIP_PLAN], [BuilderFlag.REFIT]]) {
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    if (!(await backend.createOnnxParser(network).parseFromFile(fixture('convbn/convbn_a.onnx')))) throw new Error('parse failed');
    const config = builder.createBuilderConfig();
    config.setFlags(flags);
    out.push(await builder.buildSerializedNetwork(network, config));
  }
  return out;
}

/** A forged dimension: ordinary, zero, negative, beyond 2^31 or 2^53 (as int64, written exactly). */
const dim = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(-1, 0, 1 << 20, 2 ** 31, 2 ** 40), fc.constantFrom(2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)));
/** An external-data entry: plain, escaping, absolute, special, with forged offsets and lengths. */
const externalEntries = fc.tuple(
  fc.constantFrom('w.bin', '../w.bin', '/etc/passwd', 'sub/../w.bin', '', '_ORT_MEM_ADDR_', 'nope.bin', 'w.bin\0x'),
  fc.option(fc.constantFrom('0', '64', '4095', '4096', '-1', '1e3', '18446744073709551615', 'x'), { nil: undefined }),
  fc.option(fc.constantFrom('0', '4', '16', '4096', '4097', '9007199254740993', '-4'), { nil: undefined }),
  fc.option(fc.constantFrom('checksum', 'basepath', 'location'), { nil: undefined }),
).map(([location, offset, length, extra]) => [
  { key: 'location', value: location },
  ...(offset !== undefined ? [{ key: 'offset', value: offset }] : []),
  ...(length !== undefined ? [{ key: 'length', value: length }] : []),
  ...(extra !== undefined ? [{ key: extra, value: 'w.bin' }] : []),
]);

/**
 * Well-formed ONNX protobufs with forged tensors: any element type number (valid, unknown, newer than onnx-proto's
 * schema), forged dims, raw data of the wrong size, typed fields of the wrong length, external data anywhere.
 */
export const generatedOnnx: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.record({
      dataType: fc.oneof(fc.integer({ min: 0, max: 27 }), fc.constantFrom(1, 1, 10, 16, 22)),
      dims: fc.array(dim, { maxLength: 4 }),
      storage: fc.constantFrom('raw', 'typed', 'external', 'none'),
      rawLength: fc.oneof(fc.nat(64), fc.constantFrom(0, 3, 4, 8)),
      typed: fc.array(fc.integer({ min: -5, max: 70000 }), { maxLength: 16 }),
      external: externalEntries,
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((tensors) =>
    writeOnnxModel({
      nodes: [{ opType: 'Identity', inputs: ['t0'], outputs: ['y'] }],
      initializers: tensors.map((t, i) => {
        const base = { name: `t${i}`, dataType: t.dataType, dims: t.dims };
        if (t.storage === 'raw') return { ...base, raw: new Uint8Array(t.rawLength).fill(0x3f) };
        if (t.storage === 'typed') return { ...base, typed: { field: t.dataType === 7 ? ('int64Data' as const) : t.dataType === 11 ? ('doubleData' as const) : t.dataType === 1 ? ('floatData' as const) : ('int32Data' as const), values: t.typed } };
        if (t.storage === 'external') return { ...base, externalData: t.external };
        return base;
      }),
      outputs: [{ name: 'y', elemType: 1, dims: [] }],
    }).model,
  );

/**
 * Well-formed safetensors files with forged headers: dtypes (known, unknown, sub-byte), shapes (huge, negative,
 * fractional, overflowing), data_offsets (reversed, overlapping, past the end, huge), odd metadata, and a length
 * prefix that may lie (header bombs).
 */
export const generatedSafetensors: fc.Arbitrary<Uint8Array> = fc
  .record({
    tensors: fc.array(
      fc.record({
        name: fc.constantFrom('a', 'b', '__metadata__', '', 'a'),
        dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'F4', 'Q4', 'f32', 42),
        shape: fc.array(fc.oneof(fc.nat(6), fc.constantFrom(-1, 0.5, 2 ** 31, 2 ** 53, 1e300)), { maxLength: 4 }),
        offsets: fc.tuple(fc.oneof(fc.nat(80), fc.constantFrom(-1, 2 ** 53, 2 ** 64)), fc.oneof(fc.nat(80), fc.constantFrom(-1, 2 ** 53))),
      }),
      { maxLength: 4 },
    ),
    metadata: fc.option(fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 })), fc.constant({ n: 1 } as Record<string, unknown>)), { nil: undefined }),
    dataLength: fc.nat(96),
    lengthDelta: fc.oneof(fc.constant(0n), fc.constant(0n), fc.constantFrom(-1n, 1n, 100_000_001n, 2n ** 63n)),
  })
  .map(({ tensors, metadata, dataLength, lengthDelta }) => {
    const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
    for (const t of tensors) header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: t.offsets };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataLength);
    const claimed = BigInt(json.length) + lengthDelta;
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, claimed), true);
    out.set(json, 8);
    return out;
  });

/**
 * The lazy ONNX open (files of 64 MiB or more), differentially: the input is written to a file in `dir`, opened
 * with `openOnnxModel(path, { lazy: true })` (the protobuf walked field by field, large raw_data left in the file),
 * and everything must agree with the eager reader on the same bytes — both refuse, or both list the same tensors
 * with the same bytes or the same error codes. A disagreement fails like an untyped exception.
 */
export function lazyOnnxReader(dir: string): Reader {
  const path = join(dir, 'fuzz-lazy.onnx');
  const tensorsOf = async (open: () => Promise<ReturnType<typeof parseOnnxModel>>) => {
    let model;
    try {
      model = await open();
    } catch (e) {
      if (!isTrtRefitError(e)) throw e;
      return { refused: e.code, error: e };
    }
    const out: string[] = [];
    for (const t of model.tensors()) {
      try {
        out.push(`${t.scope}/${t.name}=${Buffer.from(await model.readTensor(t)).toString('base64')}`);
      } catch (e) {
        if (!isTrtRefitError(e)) throw e;
        out.push(`${t.scope}/${t.name}!${e.code}`);
      }
    }
    return { tensors: out };
  };
  return async (bytes) => {
    writeFileSync(path, bytes);
    const lazy = await tensorsOf(() => openOnnxModel(path, { lazy: true, externalDataDir: dir }));
    const eager = await tensorsOf(async () => parseOnnxModel(bytes, { externalDataDir: dir }));
    const outcome = (r: typeof lazy) => JSON.stringify('refused' in r ? { refused: r.refused } : r);
    if (outcome(lazy) !== outcome(eager)) throw new Error(`the lazy and eager readers disagree: ${outcome(lazy).slice(0, 300)} vs ${outcome(eager).slice(0, 300)}`);
    if ('error' in lazy) throw lazy.error; // refused by both: the lazy reader's own typed error
    return 0;
  };
}

/** ONNX seeds with initializers large enough (64 KiB+) to be left in the file by a lazy open. */
export function lazyOnnxSeeds(): Uint8Array[] {
  const big = (n: number, k: number) => new Uint8Array(new Float32Array(n).map((_, i) => Math.sin(i * k)).buffer);
  return [
    writeOnnxModel({
      nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
      initializers: [
        { name: 'a', dataType: 1, dims: [17000], raw: big(17000, 1) },
        { name: 'b', dataType: 1, dims: [2], raw: f32(1, 2) },
        { name: 'c', dataType: 10, dims: [40000], raw: big(20000, 2) },
      ],
      outputs: [{ name: 'y', elemType: 1, dims: [17000] }],
    }).model,
    ...onnxSeeds(),
  ];
}
