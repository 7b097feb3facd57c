import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';

const MAX_READ = 1 << 30; // a single fs read is capped at 2 GiB: read big ranges in 1 GiB steps

/**
 * Opens a file for reading and checks that it is a regular file. The open does not block (O_NONBLOCK), so a FIFO
 * or a device in a model folder is refused instead of hanging the read forever. `refuse` builds the error for a
 * path that is not a regular file; failures to open are rethrown as they are (the caller wraps them).
 */
export async function openRegularFile(path: string, refuse: (what: string) => Error): Promise<{ fh: FileHandle; size: number }> {
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse(st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'not a regular file');
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/**
 * Reads exactly `length` bytes at `offset` of an open file with positioned reads (no whole-file load); `early`
 * builds the error thrown when the file ends before the range does. Offsets beyond 4 GiB work (up to 2^53). With
 * `into` at least `length` bytes long, the bytes land there (the result is its start) and nothing is allocated.
 */
export async function readFully(fh: FileHandle, offset: number, length: number, early: () => Error, into?: Uint8Array): Promise<Uint8Array> {
  // Into the caller's buffer when it is big enough (streaming reuses one), else a new one not from the shared pool
  // (the caller may keep it for long).
  const out = into && into.byteLength >= length ? into.subarray(0, length) : Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, Math.min(MAX_READ, length - done), offset + done);
    if (bytesRead === 0) throw early();
    done += bytesRead;
  }
  return out;
}

/**
 * Reads exactly `length` bytes at `offset` of a regular file with positioned reads (no whole-file load); `early`
 * builds the error thrown when the file ends before the range does, `refuse` the one for a path that is not a
 * regular file.
 */
export async function readRange(path: string, offset: number, length: number, early: () => Error, refuse: (what: string) => Error = early): Promise<Uint8Array> {
  const { fh } = await openRegularFile(path, refuse);
  try {
    return await readFully(fh, offset, length, early);
  } finally {
    await fh.close();
  }
}

/**
 * Reads a whole regular file; a FIFO, socket, device or directory is refused (`refuse`) without blocking, so a
 * command given `/dev/stdin` or a named pipe by mistake fails instead of hanging. A file over `maxBytes` is refused
 * before anything is allocated.
 */
export async function readRegularFile(path: string, refuse: (what: string) => Error, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
  const { fh, size } = await openRegularFile(path, refuse);
  try {
    if (size > maxBytes) throw refuse(`${size} bytes, over the ${maxBytes}-byte limit for this file`);
    return await readFully(fh, 0, size, () => refuse('shorter than its size (it changed while being read)'));
  } finally {
    await fh.close();
  }
}

/**
 * Writes `parts` to `path` through a temporary file in the same folder, renamed into place once complete, so a reader
 * never sees half a file and a failure leaves what was there. Resolves to the bytes written.
 */
export async function writeFileAtomic(path: string, parts: readonly Uint8Array[]): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w');
  let total = 0;
  try {
    for (const p of parts) {
      await fh.write(p);
      total += p.byteLength;
    }
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return total;
}
