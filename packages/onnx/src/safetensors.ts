import { isTrtRefitError } from '@trt-refit/core';
import { open, rename, unlink } from 'node:fs/promises';
import { OnnxModelError } from './errors.js';
import { openRegularFile, readFully, readRange } from '@trt-refit/core';

/** safetensors dtypes (those of the reference implementation) and their element sizes in bits. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, number>> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

/** Largest header accepted (safetensors' own reference implementation caps it at 100 MB). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** One tensor of a safetensors file. */
export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** Offset of the data in the file. */
  readonly fileOffset: number;
}

/** A safetensors file's tensors; data is read lazily (file) or viewed without copy (bytes). */
export interface Safetensors {
  readonly tensors: readonly SafetensorsTensor[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Little-endian element bytes of one tensor. */
  read(name: string): Promise<Uint8Array>;
}

const fail = (why: string) => new OnnxModelError(`not a valid safetensors file: ${why}`);

/** Validates a safetensors header (JSON) against the size of the file it came from. */
function parseHeader(headerBytes: Uint8Array, dataStart: number, fileSize: number): { tensors: SafetensorsTensor[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw fail(`the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('the header is not a JSON object');
  const dataSize = fileSize - dataStart;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Object.values(raw).some((v) => typeof v !== 'string')) throw fail('__metadata__ must map strings to strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (t === null || typeof t !== 'object') throw fail(`tensor ${name} is not an object`);
    const bits = typeof t.dtype === 'string' ? SAFETENSORS_DTYPES[t.dtype] : undefined;
    if (bits === undefined) throw fail(`tensor ${name} has an unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw fail(`tensor ${name} has an invalid shape ${JSON.stringify(t.shape)}`);
    let count = 1;
    for (const d of t.shape as number[]) {
      count *= d;
      if (!Number.isSafeInteger(count)) throw fail(`tensor ${name}: the product of its shape overflows`);
    }
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw fail(`tensor ${name} has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataSize) throw fail(`tensor ${name} ends at ${end}, past the ${dataSize} bytes of data`);
    // Sub-byte types must fill whole bytes (the reference implementation's MisalignedSlice rule).
    if (!Number.isSafeInteger(count * bits)) throw fail(`tensor ${name}: its byte size overflows`);
    if ((count * bits) % 8 !== 0) throw fail(`tensor ${name}: ${count} ${t.dtype as string} elements do not fill whole bytes`);
    const need = (count * bits) / 8;
    if (end - begin !== need) throw fail(`tensor ${name} has ${end - begin} bytes, its dtype ${t.dtype as string} and shape [${(t.shape as number[]).join(', ')}] need ${need}`);
    tensors.push({ name, dtype: t.dtype as string, shape: t.shape as number[], byteLength: need, fileOffset: dataStart + begin });
  }
  const sorted = [...tensors].sort((a, b) => a.fileOffset - b.fileOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (sorted[i]!.fileOffset < prev.fileOffset + prev.byteLength) throw fail(`tensors ${prev.name} and ${sorted[i]!.name} overlap`);
  }
  return { tensors, metadata };
}

function headerLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw fail(`the file has ${fileSize} bytes, fewer than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_SAFETENSORS_HEADER)) throw fail(`the header claims ${n} bytes, more than the ${MAX_SAFETENSORS_HEADER} allowed`);
  if (Number(n) + 8 > fileSize) throw fail(`the header claims ${n} bytes but the file has ${fileSize}`);
  return Number(n);
}

/**
 * Parses a safetensors file held in memory; tensor data are views into `bytes` (no copy).
 * @throws OnnxModelError (code INVALID_MODEL) for a damaged file: oversized or malformed header, unknown dtypes,
 * offsets outside the file, overlapping tensors, sizes that disagree with shapes.
 */
export function parseSafetensors(bytes: Uint8Array): Safetensors {
  const n = headerLength(bytes, bytes.length);
  const { tensors, metadata } = parseHeader(bytes.subarray(8, 8 + n), 8 + n, bytes.length);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    tensors,
    metadata,
    read: async (name) => {
      const t = byName.get(name);
      if (!t) throw new OnnxModelError(`safetensors has no tensor ${name}`);
      return bytes.subarray(t.fileOffset, t.fileOffset + t.byteLength);
    },
  };
}

/** Opens a safetensors file: reads only the header now, and each tensor's range when asked. */
export async function openSafetensors(path: string): Promise<Safetensors> {
  const notFile = (what: string) => new OnnxModelError(`cannot open ${path}: it is ${what}, not a regular file`, { file: path });
  const { fh, size } = await openRegularFile(path, notFile).catch((e: Error) => {
    throw isTrtRefitError(e) ? e : new OnnxModelError(`cannot open ${path}: ${e.message}`, { file: path }, { cause: e });
  });
  try {
    const early = () => fail('the file ended while its header was read');
    const prefix = size >= 8 ? await readFully(fh, 0, 8, early) : new Uint8Array(8);
    const n = headerLength(prefix, size);
    const header = await readFully(fh, 8, n, early);
    const { tensors, metadata } = parseHeader(header, 8 + n, size);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    return {
      tensors,
      metadata,
      read: async (name) => {
        const t = byName.get(name);
        if (!t) throw new OnnxModelError(`${path} has no tensor ${name}`);
        return readRange(path, t.fileOffset, t.byteLength, () => new OnnxModelError(`${path} ended early while reading ${name}`), notFile);
      },
    };
  } finally {
    await fh.close();
  }
}

/** One tensor to write with {@link writeSafetensors}: its entry, and how to read its bytes when it is written. */
export interface SafetensorsEntry {
  readonly name: string;
  /** A safetensors dtype (`F32`, `F16`, `BF16`, `F64`, `I64`, ...). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Little-endian element bytes; called once, when the tensor's turn comes (one tensor in memory at a time). */
  read(): Promise<Uint8Array> | Uint8Array;
}

/**
 * Writes a safetensors file tensor by tensor (the header first, then each tensor's bytes as `read()` gives them),
 * through a temporary file renamed into place, so host memory holds one tensor however large the file.
 * @throws OnnxModelError for an unknown dtype, a duplicate name, or bytes that disagree with dtype and shape.
 */
export async function writeSafetensors(path: string, entries: readonly SafetensorsEntry[], metadata: Readonly<Record<string, string>> = {}): Promise<number> {
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  const sizes: number[] = [];
  for (const e of entries) {
    const bits = SAFETENSORS_DTYPES[e.dtype];
    if (bits === undefined) throw new OnnxModelError(`writeSafetensors: tensor ${e.name} has an unknown dtype ${e.dtype}`);
    if (e.name === '__metadata__' || Object.hasOwn(header, e.name)) throw new OnnxModelError(`writeSafetensors: tensor name ${e.name} is used twice or reserved`);
    const bytes = Math.ceil((e.shape.reduce((a, d) => a * d, 1) * bits) / 8);
    header[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [offset, offset + bytes] };
    sizes.push(bytes);
    offset += bytes;
  }
  // The header is padded with spaces to 8 bytes, as the reference implementation does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8);
  const tmpPath = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmpPath, 'w');
  try {
    await fh.write(head);
    for (let i = 0; i < entries.length; i++) {
      const data = await entries[i]!.read();
      if (data.byteLength !== sizes[i]) throw new OnnxModelError(`writeSafetensors: tensor ${entries[i]!.name} has ${data.byteLength} bytes, its dtype and shape need ${sizes[i]}`);
      await fh.write(data);
    }
    await fh.close();
    await rename(tmpPath, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmpPath).catch(() => undefined);
    throw e;
  }
  return head.length + offset;
}
