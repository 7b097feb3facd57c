import { realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { ExternalDataError } from './errors.js';
import { openRegularFile, readFully } from '@trt-refit/core';

/** Where an external tensor's bytes are: `location` relative to the model's folder, `offset`, `length`. */
export interface ExternalDataRef {
  readonly location: string;
  readonly offset: number;
  /** undefined: `length` absent or 0; TensorRT then takes the whole file, which must be exactly the tensor (offset 0). */
  readonly length: number | undefined;
}

const KNOWN_KEYS = new Set(['location', 'offset', 'length', 'checksum']);

function nonNegativeInteger(tensor: string, location: string, key: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ExternalDataError(`tensor ${tensor}: external data ${key} must be a non-negative integer, received ${JSON.stringify(value)}`, tensor, location);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new ExternalDataError(`tensor ${tensor}: external data ${key} ${value} is too large`, tensor, location);
  return n;
}

/**
 * Validates the `external_data` key-value list of a tensor as TensorRT's parser does: `location`, `offset` and
 * `length` (`checksum` ignored); any other key, a missing location or a malformed number is an
 * {@link ExternalDataError} naming the tensor and the file.
 */
export function parseExternalData(tensor: string, entries: readonly { key?: string | null; value?: string | null }[]): ExternalDataRef {
  const location = entries.find((e) => e.key === 'location')?.value ?? '';
  let offset = 0;
  let length: number | undefined;
  for (const { key, value } of entries) {
    const k = key ?? '';
    const v = value ?? '';
    if (!KNOWN_KEYS.has(k)) throw new ExternalDataError(`tensor ${tensor}: unknown external data key ${JSON.stringify(k)} (allowed: location, offset, length, checksum)`, tensor, location);
    if (k === 'offset') offset = nonNegativeInteger(tensor, location, k, v);
    else if (k === 'length') length = nonNegativeInteger(tensor, location, k, v) || undefined;
  }
  if (!location) throw new ExternalDataError(`tensor ${tensor}: external data without a location`, tensor, location);
  return { location, offset, length };
}

/**
 * Why a location is refused, or undefined: it must be a plain relative path inside the model's folder (no absolute
 * paths, no `..`, no in-memory markers such as `*\/_ORT_MEM_ADDR_/*`).
 */
export function locationProblem(location: string): string | undefined {
  if (location.includes('\0')) return 'contains a NUL byte';
  if (isAbsolute(location) || /^[A-Za-z]:/.test(location) || location.startsWith('\\') || location.startsWith('/')) return 'is an absolute path';
  const parts = location.split(/[\\/]+/);
  if (parts.includes('..')) return 'contains ".." (relative paths to parent folders are not allowed)';
  if (location.includes('_ORT_MEM_ADDR_')) return 'is an in-memory location (_ORT_MEM_ADDR_), not a file';
  return undefined;
}

/**
 * Reads exactly one external tensor's bytes with positioned reads, after checking the location stays in
 * `modelDir` (also through symlinks), names a regular file, and the range lies inside it and has
 * `expectedBytes`. Nothing but that range is read, so a sidecar of any size (beyond 4 GiB too) costs only the
 * tensor's bytes. With `into` at least that long, the bytes are read into it (no allocation; see
 * `OnnxModel.readTensor`).
 */
export async function readExternalTensor(tensor: string, ref: ExternalDataRef, modelDir: string, expectedBytes: number, into?: Uint8Array, files?: OpenFiles): Promise<Uint8Array> {
  const fail = (why: string) => new ExternalDataError(`tensor ${tensor}: external data file ${ref.location} ${why}`, tensor, ref.location);
  const open = async () => {
    const file = await resolveExternalFile(tensor, ref.location, modelDir);
    try {
      return await openRegularFile(file, (what) => fail(`is ${what}, not a regular file`));
    } catch (e) {
      if (e instanceof ExternalDataError) throw e;
      throw fail(`cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  // With `files`, the file is resolved, checked and opened once for every tensor of the session.
  const opened = files ? await files.open(`${modelDir}\0${ref.location}`, open) : await open();
  const { fh, size } = opened;
  try {
    // Without a length TensorRT takes the whole file's size (WeightsContext::convertOnnxWeights, rule
    // F-EXTERNAL-NO-LENGTH): that is an error unless the file is exactly the tensor, and with an offset it would read
    // past the end of the file, so the reader refuses both.
    if (ref.length === undefined && (ref.offset !== 0 || (Number.isFinite(expectedBytes) && size !== expectedBytes))) {
      throw new ExternalDataError(
        `tensor ${tensor}: external data in ${ref.location} has no length, so TensorRT reads the whole file (${size} bytes)${ref.offset ? ` from offset ${ref.offset}, past its end` : ''}; the tensor needs ${expectedBytes} bytes: give "length"`,
        tensor,
        ref.location,
      );
    }
    const length = ref.length ?? size;
    if (ref.offset > size || ref.offset + length > size) {
      throw new ExternalDataError(`tensor ${tensor}: external data range [${ref.offset}, ${ref.offset + length}) runs past the end of ${ref.location} (${size} bytes)`, tensor, ref.location);
    }
    if (Number.isFinite(expectedBytes) && length !== expectedBytes) {
      throw new ExternalDataError(`tensor ${tensor}: external data length ${length} does not match the ${expectedBytes} bytes its shape and type need (${ref.location})`, tensor, ref.location);
    }
    return await readFully(fh, ref.offset, length, () => fail('ended early (did it change while being read?)'), into);
  } catch (e) {
    if (e instanceof ExternalDataError) throw e;
    throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    if (!files) await fh.close();
  }
}

/**
 * Files opened once and shared by the reads of one session (`OnnxModel.streamTensors`, a streaming refit): each
 * key is resolved, checked and opened on first use, and every handle is closed by {@link OpenFiles.close}. Saves an
 * open, two `realpath`s, a `stat` and a close per tensor.
 */
export class OpenFiles {
  readonly #files = new Map<string, Promise<{ fh: FileHandle; size: number }>>();

  /** The file opened under `key`, opening it with `open` on first use (a failed open is not kept). */
  open(key: string, open: () => Promise<{ fh: FileHandle; size: number }>): Promise<{ fh: FileHandle; size: number }> {
    let f = this.#files.get(key);
    if (!f) {
      f = open();
      this.#files.set(key, f);
      f.catch(() => this.#files.delete(key));
    }
    return f;
  }

  /** Closes every file opened so far. */
  async close(): Promise<void> {
    const all = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(all.map((f) => f.then((o) => o.fh.close(), () => undefined)));
  }
}

/** The real path of an external data file, refused when it leaves the model's folder or does not exist. */
export async function resolveExternalFile(tensor: string, location: string, modelDir: string): Promise<string> {
  const problem = locationProblem(location);
  if (problem) throw new ExternalDataError(`tensor ${tensor}: external data location ${JSON.stringify(location)} ${problem}`, tensor, location);
  let dir: string;
  let real: string;
  try {
    dir = await realpath(modelDir);
  } catch {
    throw new ExternalDataError(`tensor ${tensor}: the model folder ${modelDir} does not exist`, tensor, location);
  }
  try {
    real = await realpath(join(dir, location));
  } catch {
    throw new ExternalDataError(`tensor ${tensor}: external data file ${location} does not exist in ${dir}`, tensor, location);
  }
  if (!real.startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
    throw new ExternalDataError(`tensor ${tensor}: external data file ${location} resolves to ${real}, outside the model folder ${dir}`, tensor, location);
  }
  return real;
}
