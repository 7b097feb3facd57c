import { open } from 'node:fs/promises';

const MAX_READ = 1 << 30; // a single fs read is capped at 2 GiB: read big ranges in 1 GiB steps

/**
 * Reads exactly `length` bytes at `offset` of a file with positioned reads (no whole-file load); `early` builds the
 * error thrown when the file ends before the range does.
 */
export async function readRange(path: string, offset: number, length: number, early: () => Error): Promise<Uint8Array> {
  const out = Buffer.allocUnsafe(length);
  const fh = await open(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(out, done, Math.min(MAX_READ, length - done), offset + done);
      if (bytesRead === 0) throw early();
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return out;
}
