import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { OnnxModelError } from './errors.js';
import { readFully } from '@trt-refit/core';

const { ModelProto, GraphProto, TensorProto } = (onnxProto as unknown as { onnx: typeof onnx }).onnx;

/**
 * The bytes as a plain Uint8Array view (no copy). protobufjs picks a reader by the input's class, and its Node
 * Buffer reader clamps a string that runs past the end instead of refusing it; the plain reader refuses it, so a
 * truncated model reads the same whether it came as a Buffer or a Uint8Array.
 */
export function strictView(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** Where the `raw_data` of an initializer read lazily lies in the model file. */
export interface LazyRawData {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

/** Marks a TensorProto whose `raw_data` was left in the file (see {@link scanModelFile}). */
export const LAZY_RAW = Symbol('trt-refit.lazyRawData');

/** The lazy `raw_data` of a tensor proto, if it has one. */
export function lazyRawData(t: object): LazyRawData | undefined {
  return (t as { [LAZY_RAW]?: LazyRawData })[LAZY_RAW];
}

/** raw_data at least this long is left in the file; shorter is read with the structure. */
const LAZY_MIN = 64 * 1024;
const WINDOW = 1 << 20;
const JUMP_WINDOW = 16 << 10;

/** Buffered positioned reads of a file, for walking protobuf structure without reading what it skips. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private at = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly path: string,
  ) {}

  private invalid(why: string): OnnxModelError {
    return new OnnxModelError(`not a valid ONNX model: ${why}`, { file: this.path });
  }

  private async ensure(pos: number, n: number): Promise<void> {
    if (pos >= this.at && pos + n <= this.at + this.buf.length) return;
    if (pos + n > this.size) throw this.invalid(`a field at offset ${pos} runs past the end of the file`);
    // Sequential walking reads 1 MiB windows; after a skip (over large raw_data) the next structure is usually
    // a few fields before the next skip, so a small window first (reading 1 MiB per skipped tensor cost a quarter
    // of the weight bytes again).
    const sequential = pos >= this.at && pos <= this.at + this.buf.length;
    const len = Math.min(Math.max(n, sequential ? WINDOW : JUMP_WINDOW), this.size - pos);
    // Windows are small (at most 1 MiB, or one field) and read synchronously: walking a model's structure makes
    // one read per skipped tensor, and a trip through the thread pool for each cost more than the reads (a 1 GiB
    // model of 256 tensors opened in ~50 ms instead of ~15).
    const buf = Buffer.allocUnsafeSlow(len);
    for (let done = 0; done < len; ) {
      const n = readSync(this.fh.fd, buf, done, len - done, pos + done);
      if (n === 0) throw this.invalid('the file shrank while being read');
      done += n;
    }
    this.buf = buf;
    this.at = pos;
  }

  /** A varint at `pos`: its value (exact up to 2^53) and the position after it. */
  async varint(pos: number): Promise<[number, number]> {
    await this.ensure(pos, Math.min(10, this.size - pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[pos - this.at + i];
      if (b === undefined) throw this.invalid(`a varint at offset ${pos} runs past the end of the file`);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (!(b & 0x80)) return [value, pos + i + 1];
    }
    throw this.invalid(`a varint at offset ${pos} is longer than 10 bytes`);
  }

  /** `n` bytes at `pos`: a view of the current read window (each window is a new buffer), or a read of its own. */
  async bytes(pos: number, n: number): Promise<Uint8Array> {
    if (n > WINDOW) return readFully(this.fh, pos, n, () => this.invalid('the file shrank while being read'));
    await this.ensure(pos, n);
    return this.buf.subarray(pos - this.at, pos - this.at + n);
  }
}

/** Calls `visit` for each field of the message in [start, end): number, wire type, its whole span and its payload. */
async function eachField(c: Cursor, start: number, end: number, visit: (field: number, wire: number, span: [number, number], payload: [number, number]) => Promise<void>): Promise<void> {
  let p = start;
  while (p < end) {
    const [tag, afterTag] = await c.varint(p);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let payload: [number, number];
    switch (wire) {
      case 0:
        payload = [afterTag, (await c.varint(afterTag))[1]];
        break;
      case 1:
        payload = [afterTag, afterTag + 8];
        break;
      case 5:
        payload = [afterTag, afterTag + 4];
        break;
      case 2: {
        const [len, afterLen] = await c.varint(afterTag);
        payload = [afterLen, afterLen + len];
        break;
      }
      default:
        throw new OnnxModelError(`not a valid ONNX model: invalid wire type ${wire} at offset ${p}`);
    }
    if (field === 0 || payload[1] > end) throw new OnnxModelError(`not a valid ONNX model: the field at offset ${p} runs past its message`);
    await visit(field, wire, [p, payload[1]], payload);
    p = payload[1];
  }
}

/**
 * A field, decoded on its own as part of a `type` message to prove it is self-contained: protobufjs does not check
 * that a nested message stays inside its parent, so a field that overruns its span would decode differently here
 * (where the next bytes are other fields) than in the whole file. Such a file is left to the ordinary decoder.
 */
function checked(type: { decode(bytes: Uint8Array): unknown }, piece: Uint8Array): Uint8Array {
  try {
    type.decode(strictView(piece));
  } catch (e) {
    throw new OnnxModelError(`not a valid ONNX model: ${(e as Error).message}`);
  }
  return piece;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/**
 * Reads an ONNX model file's structure without its large initializer data: the protobuf is walked field by field
 * with buffered positioned reads; each main-graph initializer's `raw_data` of 64 KiB or more is skipped and recorded
 * (file, offset, length) on the decoded TensorProto under {@link LAZY_RAW}, to be read when the tensor is. Everything
 * else (nodes, subgraphs, small tensors) is read and decoded as usual. A protobuf is a sequence of self-delimited
 * fields, so leaving one out of a message and decoding the rest gives the same message without it.
 *
 * Returns undefined when the layout needs the ordinary decoder (the graph field split in several parts, which
 * protobuf merges); throws OnnxModelError for a structure it cannot walk (the caller then lets the ordinary
 * decoder decide, which is more lenient).
 */
export async function scanModelFile(fh: FileHandle, size: number, path: string): Promise<onnx.ModelProto | undefined> {
  const c = new Cursor(fh, size, path);
  const modelRest: Uint8Array[] = [];
  let graphSpan: [number, number] | undefined;
  let graphs = 0;
  await eachField(c, 0, size, async (field, wire, span, payload) => {
    if (field === 7 && wire === 2) {
      graphSpan = payload;
      graphs++;
    } else modelRest.push(checked(ModelProto, await c.bytes(span[0], span[1] - span[0])));
  });
  if (graphs !== 1 || !graphSpan) return undefined;
  const graphRest: Uint8Array[] = [];
  const initializers: onnx.TensorProto[] = [];
  await eachField(c, graphSpan[0], graphSpan[1], async (field, wire, span, payload) => {
    if (field !== 5 || wire !== 2) {
      graphRest.push(checked(GraphProto, await c.bytes(span[0], span[1] - span[0])));
      return;
    }
    const tensorRest: Uint8Array[] = [];
    let raw: LazyRawData | undefined;
    await eachField(c, payload[0], payload[1], async (f, w, s, p) => {
      if (f === 9 && w === 2 && p[1] - p[0] >= LAZY_MIN) {
        raw = { path, offset: p[0], length: p[1] - p[0] }; // the last raw_data wins, as in protobuf
        return;
      }
      if (f === 9) raw = undefined; // a later, short raw_data replaces a skipped one
      tensorRest.push(checked(TensorProto, await c.bytes(s[0], s[1] - s[0])));
    });
    const t = TensorProto.decode(concat(tensorRest));
    if (raw) (t as unknown as { [LAZY_RAW]: LazyRawData })[LAZY_RAW] = raw;
    initializers.push(t);
  });
  const graph = GraphProto.decode(concat(graphRest));
  graph.initializer = initializers;
  const model = ModelProto.decode(concat(modelRest));
  model.graph = graph;
  return model;
}
