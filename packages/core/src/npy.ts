import { InvalidArgumentError } from './errors.js';
import type { HostTensor } from './interfaces.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { ctor: Float32ArrayConstructor | BigInt64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor; size: number }> = {
  '<f4': { ctor: Float32Array, size: 4 },
  '<i8': { ctor: BigInt64Array, size: 8 },
  '<i4': { ctor: Int32Array, size: 4 },
  '|u1': { ctor: Uint8Array, size: 1 },
  '|b1': { ctor: Uint8Array, size: 1 },
};

/**
 * Reads a NumPy `.npy` file (float32, int64, int32, uint8 or bool; C order) into a {@link HostTensor}.
 * The data is copied once into an aligned typed array.
 * @throws InvalidArgumentError for anything else or a damaged file.
 *
 * @example
 * ```ts
 * const input = readNpy(await readFile('input.npy'));
 * const outputs = await context.execute({ input });
 * ```
 */
export function readNpy(bytes: Uint8Array): HostTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new InvalidArgumentError('not a .npy file (bad magic)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new InvalidArgumentError('.npy header runs past the end of the file');
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new InvalidArgumentError(`.npy header is not understood: ${header.trim()}`);
  if (fortran === 'True') throw new InvalidArgumentError('.npy in Fortran order is not supported; save it in C order');
  const kind = DESCR[descr];
  if (!kind) throw new InvalidArgumentError(`.npy dtype ${descr} is not supported (float32, int64, int32, uint8, bool are)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new InvalidArgumentError(`.npy shape is invalid: (${shapeText})`);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (dataStart + count * kind.size > bytes.length) throw new InvalidArgumentError(`.npy data is truncated: shape (${shapeText}) needs ${count * kind.size} bytes`);
  // Uint8Array#slice copies (Buffer#slice would be a view into a pooled buffer): the data gets its own aligned memory.
  const copy = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + count * kind.size);
  return { data: new kind.ctor(copy.buffer, 0, count) as HostTensor['data'], dims };
}

/** Writes a {@link HostTensor} as a version 1.0 `.npy` file (C order). */
export function writeNpy(tensor: HostTensor): Uint8Array {
  const d = tensor.data;
  const descr = d instanceof Float32Array ? '<f4' : d instanceof BigInt64Array ? '<i8' : d instanceof Int32Array ? '<i4' : '|u1';
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + d.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), 10 + header.length);
  return out;
}
