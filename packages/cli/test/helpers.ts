import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '@trt-refit/cli';

export const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
export const tmp = () => mkdtempSync(join(tmpdir(), 'trt-refit-cli-'));

/** An io that collects stdout, stderr and what a progress bar draws. */
export type CapturedIo = CliIo & { out: string; err: string; drawn: string };

export function captureIo(over: Partial<CliIo> = {}): CapturedIo {
  const o = { out: '', err: '', drawn: '', isTTY: false, env: {}, cwd: process.cwd(), ...over } as CapturedIo;
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  o.progressStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      o.drawn += chunk.toString();
      done();
    },
  });
  return o;
}
