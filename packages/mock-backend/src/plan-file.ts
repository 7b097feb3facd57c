import { crc32 } from 'node:zlib';
import { open, rename, rm } from 'node:fs/promises';
import { openRegularFile, readFully } from '@trt-refit/onnx';
import * as flatbuffers from 'flatbuffers';
import { BuilderFlag, DataType, SerializationFlag, TrtRefitError, TrtRefitErrorCode, WeightsRole, type AttributeValue, type Dim, type TensorDesc } from '@trt-refit/core';
import { FusionGroup } from './generated/trt-refit/plan/fusion-group.js';
import { EngineLayer as FbEngineLayer } from './generated/trt-refit/plan/engine-layer.js';
import { Header } from './generated/trt-refit/plan/header.js';
import { LayerWeight } from './generated/trt-refit/plan/layer-weight.js';
import { NetworkLayer as FbNetworkLayer } from './generated/trt-refit/plan/network-layer.js';
import { Plan } from './generated/trt-refit/plan/plan.js';
import { Tensor } from './generated/trt-refit/plan/tensor.js';
import { Weight } from './generated/trt-refit/plan/weight.js';
import type { EngineLayer, EngineWeight } from './engine-model.js';

/** Version of the plan layout this code writes and reads. */
export const PLAN_FORMAT_VERSION = 2;
const IDENTIFIER = 'TRTM';
const TRAILER_MAGIC = Buffer.from('TRTMEND\0', 'latin1');
const TRAILER = 16;
const ALIGN = 64;

/** A network layer as the plan keeps it (weights by name, not data). */
export interface PlanNetworkLayer {
  readonly name: string;
  readonly type: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly weights: readonly { readonly role: WeightsRole; readonly name: string }[];
}

/** A weight of a plan: the engine model's facts, its build-time content hash, and its data when the plan has it. */
export interface PlanWeight extends EngineWeight {
  readonly contentHash: Uint8Array;
  /** Little-endian values (a view into the plan when read), or null when the plan excludes them. */
  readonly data: Uint8Array | null;
  /** The CRC-32 of `data` recorded in the plan (set when read from one). */
  readonly crc32?: number;
}

/** Everything a mock plan holds. */
export interface PlanContents {
  readonly tensorrtVersion: string;
  readonly builderFlags: readonly string[];
  readonly serializationFlags: readonly string[];
  readonly refittable: boolean;
  readonly strippedBuild: boolean;
  readonly weightsExcluded: boolean;
  readonly versionCompatible: boolean;
  readonly leanRuntime: 'none' | 'embedded' | 'excluded';
  readonly inputs: readonly TensorDesc[];
  readonly outputs: readonly TensorDesc[];
  readonly networkLayers: readonly PlanNetworkLayer[];
  readonly engineLayers: readonly EngineLayer[];
  readonly weights: readonly PlanWeight[];
  readonly fusionGroups: readonly (readonly string[])[];
}

/** A plan that is damaged, truncated or not a mock plan. */
export class InvalidPlanError extends TrtRefitError {
  constructor(message: string) {
    super(TrtRefitErrorCode.INVALID_PLAN, `invalid plan: ${message}`);
  }
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const LEAN = ['none', 'embedded', 'excluded'] as const;
// The schema's enums, in the order of core's names (schema/plan.fbs pins the values).
const DTYPES = Object.values(DataType);
const ROLES = Object.values(WeightsRole);
const BUILDER_FLAGS = Object.values(BuilderFlag) as string[];
const SERIALIZATION_FLAGS = Object.values(SerializationFlag) as string[];
/** The schema number of a name, refusing names the format does not know. */
function code(list: readonly string[], name: string, what: string): number {
  const i = list.indexOf(name);
  if (i < 0) throw new InvalidPlanError(`cannot write ${what} ${JSON.stringify(name)}: not one of ${list.join(', ')}`);
  return i;
}
/** The name of a schema number, refusing numbers out of range (a damaged or newer plan). */
function named<T extends string>(list: readonly T[], value: number, what: string): T {
  const v = list[value];
  if (v === undefined) throw new InvalidPlanError(`${what} ${value} is out of range`);
  return v;
}

/** Where each part of a plan goes: the metadata, each weight's data (64-byte aligned), the trailer. */
interface PlanLayout {
  fb: Uint8Array;
  dataStart: number;
  dataLength: number;
  placed: { offset: number; length: number }[];
  trailer: Uint8Array;
  total: number;
}

/**
 * Serializes a plan: flatbuffer metadata, then every present weight's data 64-byte aligned, then a trailer with the
 * metadata's CRC-32. Weight data is copied once, into the plan. See {@link writePlanFile} to write one to a file
 * without holding it in memory.
 */
export function writePlan(plan: PlanContents): Uint8Array {
  const layout = planLayout(plan);
  const out = new Uint8Array(layout.total);
  out.set(layout.fb, 0);
  plan.weights.forEach((w, i) => {
    if (w.data) out.set(w.data, layout.dataStart + layout.placed[i]!.offset);
  });
  out.set(layout.trailer, layout.dataStart + layout.dataLength);
  return out;
}

/** Bytes per read of {@link readPlanFile}, and how many are in flight at once. */
const READ_STEP = 8 << 20;
const READS_IN_FLIGHT = 4;

/** Bytes per gathered write of {@link writePlanFile}. */
const WRITE_BATCH = 64 << 20;

/**
 * Writes a plan to a file, byte for byte what {@link writePlan} returns, without assembling it in memory: the
 * metadata, then each weight's data straight from where it is (gathered writes), then the trailer. Host memory
 * stays at the metadata's size however large the weights; the file is written under a temporary name and renamed
 * into place once complete, so a failed write never leaves a damaged plan at `path`. Resolves to its size.
 */
export async function writePlanFile(path: string, plan: PlanContents): Promise<number> {
  const layout = planLayout(plan);
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    // The plan's parts in file order, padding included, gathered into writev calls of up to 512 buffers and
    // 64 MiB (larger calls were no faster, and a part of over 64 MiB goes in a call of its own).
    const parts: Uint8Array[] = [layout.fb];
    const zeros = new Uint8Array(ALIGN);
    let end = layout.fb.byteLength;
    const pad = (to: number) => {
      for (; end < to; end = Math.min(to, end + ALIGN)) parts.push(zeros.subarray(0, Math.min(ALIGN, to - end)));
    };
    for (const [i, w] of plan.weights.entries()) {
      if (!w.data) continue;
      pad(layout.dataStart + layout.placed[i]!.offset);
      parts.push(w.data);
      end += w.data.byteLength;
    }
    pad(layout.dataStart + layout.dataLength);
    parts.push(layout.trailer);
    let at = 0;
    for (let i = 0; i < parts.length; ) {
      let j = i + 1;
      let want = parts[i]!.byteLength;
      while (j < parts.length && j - i < 512 && want + parts[j]!.byteLength <= WRITE_BATCH) want += parts[j++]!.byteLength;
      const batch = parts.slice(i, j);
      i = j;
      let { bytesWritten } = await fh.writev(batch, at);
      // A short write (a full disk returns an error instead): finish the batch with positioned writes.
      for (let skip = bytesWritten, k = 0; bytesWritten < want; k++) {
        const b = batch[k]!;
        if (skip >= b.byteLength) {
          skip -= b.byteLength;
          continue;
        }
        for (let off = skip; off < b.byteLength; ) {
          const r = await fh.write(b, off, b.byteLength - off, at + bytesWritten);
          off += r.bytesWritten;
          bytesWritten += r.bytesWritten;
        }
        skip = 0;
      }
      at += want;
    }
    await fh.close();
    await rename(tmp, path);
    return layout.total;
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

function planLayout(plan: PlanContents): PlanLayout {
  // Sized for the metadata up front (it was grown by doubling from 1 KiB, copying each time), and each distinct
  // string written once (weight and layer names recur across weights, network layers and engine layers): building
  // the metadata of a 256-weight plan right after a collection took 20–40 ms, about a tenth of writing 1 GiB.
  const b = new flatbuffers.Builder(4096 + 512 * (plan.weights.length + plan.networkLayers.length + plan.engineLayers.length));
  const strings = new Map<string, number>();
  const str = (s: string) => {
    let o = strings.get(s);
    if (o === undefined) strings.set(s, (o = b.createString(s)));
    return o;
  };
  const strs = (xs: readonly string[]) => xs.map(str);
  const vecOfOffsets = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
    return b.endVector();
  };
  const strVec = (xs: readonly string[]) => vecOfOffsets(strs(xs));
  const tensor = (t: TensorDesc) =>
    Tensor.createTensor(b, str(t.name), code(DTYPES, t.dtype, 'dtype'), Tensor.createDimsVector(b, t.dims.map((d) => BigInt(typeof d === 'number' ? d : -1))), strVec(t.dims.map((d) => (typeof d === 'number' ? '' : d))));

  let dataLength = 0;
  const placed = plan.weights.map((w) => {
    if (!w.data) return { offset: 0, length: 0, crc: 0 };
    const offset = align(dataLength);
    dataLength = offset + w.data.byteLength;
    return { offset, length: w.data.byteLength, crc: w.crc32 ?? crc32(w.data) }; // a checksum the caller knows is reused
  });
  dataLength = align(dataLength);

  const weights = plan.weights.map((w, i) => {
    const p = placed[i]!;
    const name = str(w.name);
    const layer = str(w.layer);
    const dims = Weight.createDimsVector(b, w.dims.map((d) => BigInt(d)));
    const hash = Weight.createContentHashVector(b, w.contentHash);
    Weight.startWeight(b);
    Weight.addName(b, name);
    Weight.addRole(b, code(ROLES, w.role, 'role'));
    Weight.addLayer(b, layer);
    Weight.addDtype(b, code(DTYPES, w.dtype, 'dtype'));
    Weight.addDims(b, dims);
    Weight.addCount(b, BigInt(w.count));
    Weight.addRefittable(b, w.refittable);
    Weight.addFusionGroup(b, w.fusionGroup);
    Weight.addStripped(b, w.stripped);
    Weight.addContentHash(b, hash);
    Weight.addPresent(b, w.data !== null);
    Weight.addOffset(b, BigInt(p.offset));
    Weight.addLength(b, BigInt(p.length));
    Weight.addCrc32(b, p.crc);
    return Weight.endWeight(b);
  });
  const networkLayers = plan.networkLayers.map((l) => {
    const lw = l.weights.map((w) => LayerWeight.createLayerWeight(b, code(ROLES, w.role, 'role'), str(w.name)));
    return FbNetworkLayer.createNetworkLayer(b, str(l.name), str(l.type), strVec(l.inputs), strVec(l.outputs), str(JSON.stringify(l.attributes)), vecOfOffsets(lw));
  });
  const engineLayers = plan.engineLayers.map((l) => FbEngineLayer.createEngineLayer(b, str(l.name), str(l.type), strVec(l.fusedFrom), strVec(l.inputs), strVec(l.outputs), strVec(l.weights)));
  const header = Header.createHeader(
    b,
    PLAN_FORMAT_VERSION,
    str(plan.tensorrtVersion),
    Header.createBuilderFlagsVector(b, plan.builderFlags.map((f) => code(BUILDER_FLAGS, f, 'builder flag'))),
    Header.createSerializationFlagsVector(b, plan.serializationFlags.map((f) => code(SERIALIZATION_FLAGS, f, 'serialization flag'))),
    plan.refittable,
    plan.strippedBuild,
    plan.weightsExcluded,
    plan.versionCompatible,
    LEAN.indexOf(plan.leanRuntime),
    BigInt(dataLength),
  );
  const root = Plan.createPlan(
    b,
    header,
    vecOfOffsets(plan.inputs.map(tensor)),
    vecOfOffsets(plan.outputs.map(tensor)),
    vecOfOffsets(networkLayers),
    vecOfOffsets(engineLayers),
    vecOfOffsets(weights),
    vecOfOffsets(plan.fusionGroups.map((g) => FusionGroup.createFusionGroup(b, strVec(g)))),
  );
  b.finish(root, IDENTIFIER);
  const fb = b.asUint8Array();
  const dataStart = align(fb.byteLength);
  const trailer = new Uint8Array(TRAILER);
  trailer.set(TRAILER_MAGIC, 0);
  const dv = new DataView(trailer.buffer);
  dv.setUint32(8, fb.byteLength, true);
  dv.setUint32(12, crc32(fb), true);
  return { fb, dataStart, dataLength, placed, trailer, total: dataStart + dataLength + TRAILER };
}

/** True when `bytes` looks like a mock plan (its flatbuffer identifier). */
export function isPlan(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset + 4, 4).toString('latin1') === IDENTIFIER;
}

/**
 * Reads and verifies a plan: the trailer, the CRC-32 of the metadata, the zero padding, every weight's range and
 * CRC-32. Weight data are views into `bytes` (no copy). Anything wrong is an {@link InvalidPlanError}.
 */
export function readPlan(bytes: Uint8Array): PlanContents {
  return readPlanWith(bytes, { weightCrcs: true, gaps: true });
}

/**
 * {@link readPlan} of a file, verified while it is read: the metadata is read and checked first, then the data in
 * 8 MiB steps, four in flight, each weight's CRC-32 computed as soon as its bytes are in while later steps are
 * being read (so checking costs little beyond the read). The result's weight data are views of one buffer of the file's size.
 * The file must be a regular file (a FIFO or device is refused without blocking). Like TensorRT's
 * `deserializeCudaEngine(IStreamReader)`, the plan is not first read whole by the caller.
 */
export async function readPlanFile(path: string): Promise<PlanContents> {
  const refuse = (what: string) => new InvalidPlanError(`cannot read ${path}: it is ${what}`);
  const { fh, size } = await openRegularFile(path, refuse).catch((e: unknown) => {
    throw e instanceof InvalidPlanError ? e : new InvalidPlanError(`cannot read ${path}: ${(e as Error).message}`);
  });
  try {
    if (size < TRAILER + 8) throw new InvalidPlanError(`${size} bytes is too short for a plan`);
    const bytes = Buffer.allocUnsafeSlow(size);
    const short = () => new InvalidPlanError(`${path} changed while being read`);
    const readAt = (at: number, n: number) => readFully(fh, at, n, short, bytes.subarray(at, at + n));
    await readAt(size - TRAILER, TRAILER);
    const fbLength = new DataView(bytes.buffer, bytes.byteOffset + size - TRAILER + 8, 4).getUint32(0, true);
    if (fbLength < 8 || align(fbLength) > size - TRAILER) throw new InvalidPlanError('the metadata length in the trailer is out of range');
    await readAt(0, align(fbLength));
    // The metadata and ranges, checked before any data is read (data views are filled as the reads land).
    const plan = readPlanWith(bytes, { weightCrcs: false, gaps: false });
    const pending = plan.weights.filter((w) => w.data).sort((a, b) => a.data!.byteOffset - b.data!.byteOffset);
    const start = align(fbLength);
    const end = size - TRAILER;
    // READS_IN_FLIGHT positioned reads of STEP bytes at a time on libuv's pool (filling fresh memory is page faults
    // as much as copying, and reads in flight fault in parallel on every core), each weight's CRC-32 computed as
    // soon as every byte before its end is in, while the later reads go on.
    let issued = start;
    const inFlight: Promise<number>[] = [];
    const issue = () => {
      if (issued >= end) return;
      const at = issued;
      const n = Math.min(READ_STEP, end - at);
      issued += n;
      const read = readAt(at, n).then(() => at + n);
      read.catch(() => undefined); // awaited in order below; a later read's failure must not go unhandled meanwhile
      inFlight.push(read);
    };
    for (let i = 0; i < READS_IN_FLIGHT; i++) issue();
    let next = 0;
    try {
      while (inFlight.length) {
        const done = await inFlight.shift()!;
        issue();
        for (; next < pending.length && pending[next]!.data!.byteOffset - bytes.byteOffset + pending[next]!.data!.byteLength <= done; next++) {
          const w = pending[next]!;
          if (crc32(w.data!) !== w.crc32) throw new InvalidPlanError(`the data of weight ${w.name} does not match its checksum: the plan is damaged`);
        }
      }
    } catch (e) {
      await Promise.allSettled(inFlight); // no read still running when the file is closed
      throw e;
    }
    return readPlanWith(bytes, { weightCrcs: false, gaps: true }); // every weight was checked above; now the gaps
  } finally {
    await fh.close();
  }
}

/** What readPlanWith verifies beyond the trailer, the metadata CRC and the ranges. */
interface PlanChecks {
  weightCrcs: boolean;
  gaps: boolean;
}

function readPlanWith(bytes: Uint8Array, checks: PlanChecks): PlanContents {
  if (!(bytes instanceof Uint8Array)) throw new InvalidPlanError('expected the plan bytes as a Uint8Array');
  if (bytes.length < TRAILER + 8) throw new InvalidPlanError(`${bytes.length} bytes is too short for a plan`);
  if (!isPlan(bytes)) throw new InvalidPlanError('not a trt-refit mock plan (identifier TRTM missing)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = bytes.length - TRAILER;
  if (!Buffer.from(bytes.buffer, bytes.byteOffset + t, 8).equals(TRAILER_MAGIC)) throw new InvalidPlanError('the trailer is missing: the plan is truncated or damaged');
  const fbLength = dv.getUint32(t + 8, true);
  if (fbLength < 8 || align(fbLength) > t) throw new InvalidPlanError('the metadata length in the trailer is out of range');
  const fb = bytes.subarray(0, fbLength);
  if (crc32(fb) !== dv.getUint32(t + 12, true)) throw new InvalidPlanError('the metadata checksum does not match: the plan is damaged');
  const dataStart = align(fbLength);
  for (let i = fbLength; i < dataStart; i++) if (bytes[i] !== 0) throw new InvalidPlanError('non-zero bytes in the padding: the plan is damaged');
  let plan: PlanContents;
  try {
    plan = decode(new flatbuffers.ByteBuffer(fb), bytes, dataStart, t, checks);
  } catch (e) {
    if (e instanceof InvalidPlanError) throw e;
    throw new InvalidPlanError(`the metadata cannot be decoded: ${(e as Error).message}`);
  }
  return plan;
}

function decode(bb: flatbuffers.ByteBuffer, bytes: Uint8Array, dataStart: number, dataEnd: number, checks: PlanChecks): PlanContents {
  const p = Plan.getRootAsPlan(bb);
  const h = p.header();
  if (!h) throw new InvalidPlanError('no header');
  if (h.formatVersion() === 1) throw new InvalidPlanError('the plan is of format 1 (trt-refit 0.1, names stored as text); this version reads format 2: build the plan again');
  if (h.formatVersion() !== PLAN_FORMAT_VERSION) throw new InvalidPlanError(`format version ${h.formatVersion()} is not ${PLAN_FORMAT_VERSION}`);
  const dataLength = Number(h.dataLength());
  if (dataStart + dataLength !== dataEnd) throw new InvalidPlanError(`the data region is ${dataEnd - dataStart} bytes, the header says ${dataLength}`);
  const list = <T>(n: number, get: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => get(i));
  const s = (x: string | null) => x ?? '';
  const tensor = (x: Tensor | null): TensorDesc => {
    if (x!.dimNamesLength() !== x!.dimsLength()) throw new InvalidPlanError(`tensor ${s(x!.name())}: dims and dim_names differ in length`);
    return { name: s(x!.name()), dtype: named(DTYPES, x!.dtype(), 'dtype'), dims: list(x!.dimsLength(), (i): Dim => (x!.dims(i) === -1n && s(x!.dimNames(i)) ? s(x!.dimNames(i)) : Number(x!.dims(i)))) };
  };
  const weights: PlanWeight[] = list(p.weightsLength(), (i) => {
    const w = p.weights(i)!;
    const name = s(w.name());
    let data: Uint8Array | null = null;
    if (w.present()) {
      const off = Number(w.offset());
      const len = Number(w.length());
      if (off % ALIGN !== 0 || off + len > dataLength) throw new InvalidPlanError(`weight ${name} lies outside the data region`);
      data = bytes.subarray(dataStart + off, dataStart + off + len);
      if (checks.weightCrcs && crc32(data) !== w.crc32()) throw new InvalidPlanError(`the data of weight ${name} does not match its checksum: the plan is damaged`);
    }
    return {
      name,
      role: named(ROLES, w.role(), `weight ${name}: role`),
      layer: s(w.layer()),
      dtype: named(DTYPES, w.dtype(), `weight ${name}: dtype`),
      dims: list(w.dimsLength(), (k) => Number(w.dims(k))),
      count: Number(w.count()),
      refittable: w.refittable(),
      fusionGroup: w.fusionGroup(),
      stripped: w.stripped(),
      contentHash: w.contentHashArray() ?? new Uint8Array(0),
      data,
      crc32: w.crc32(),
    };
  });
  // Bytes of the data region that no weight covers (alignment gaps) must be zero, so no byte goes unchecked.
  const covered = weights.filter((w) => w.data).map((w) => [w.data!.byteOffset - bytes.byteOffset - dataStart, w.data!.byteLength] as const).sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [off, len] of [...covered, [dataLength, 0] as const]) {
    if (off < cursor) throw new InvalidPlanError('weights overlap in the data region');
    if (checks.gaps) for (let i = dataStart + cursor; i < dataStart + off; i++) if (bytes[i] !== 0) throw new InvalidPlanError('non-zero bytes between weights: the plan is damaged');
    cursor = off + len;
  }
  const groups = p.fusionGroupsLength();
  for (const w of weights) if (w.fusionGroup < -1 || w.fusionGroup >= groups) throw new InvalidPlanError(`weight ${w.name}: fusion group ${w.fusionGroup} is out of range (${groups} groups)`);
  return {
    tensorrtVersion: s(h.tensorrtVersion()),
    builderFlags: list(h.builderFlagsLength(), (i) => named(BUILDER_FLAGS, h.builderFlags(i)!, 'builder flag')),
    serializationFlags: list(h.serializationFlagsLength(), (i) => named(SERIALIZATION_FLAGS, h.serializationFlags(i)!, 'serialization flag')),
    refittable: h.refittable(),
    strippedBuild: h.strippedBuild(),
    weightsExcluded: h.weightsExcluded(),
    versionCompatible: h.versionCompatible(),
    leanRuntime: LEAN[h.leanRuntime()] ?? (() => { throw new InvalidPlanError('unknown lean runtime mode'); })(),
    inputs: list(p.inputsLength(), (i) => tensor(p.inputs(i))),
    outputs: list(p.outputsLength(), (i) => tensor(p.outputs(i))),
    networkLayers: list(p.networkLayersLength(), (i) => {
      const l = p.networkLayers(i)!;
      return {
        name: s(l.name()),
        type: s(l.type()),
        inputs: list(l.inputsLength(), (k) => s(l.inputs(k))),
        outputs: list(l.outputsLength(), (k) => s(l.outputs(k))),
        attributes: JSON.parse(s(l.attributesJson()) || '{}') as Record<string, AttributeValue>,
        weights: list(l.weightsLength(), (k) => ({ role: named(ROLES, l.weights(k)!.role(), `layer ${s(l.name())}: role`), name: s(l.weights(k)!.name()) })),
      };
    }),
    engineLayers: list(p.engineLayersLength(), (i) => {
      const l = p.engineLayers(i)!;
      return { name: s(l.name()), type: s(l.type()), fusedFrom: list(l.fusedFromLength(), (k) => s(l.fusedFrom(k))), inputs: list(l.inputsLength(), (k) => s(l.inputs(k))), outputs: list(l.outputsLength(), (k) => s(l.outputs(k))), weights: list(l.weightsLength(), (k) => s(l.weights(k))) };
    }),
    weights,
    fusionGroups: list(p.fusionGroupsLength(), (i) => {
      const g = p.fusionGroups(i)!;
      return list(g.membersLength(), (k) => s(g.members(k)));
    }),
  };
}


