import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { PlanReader } from '@trt-refit/core';
import { selectBackend } from './backend.js';
import { CliError } from './io.js';

/** The plan reader of the default backend (the mock's: TensorRT plans are opaque), or undefined. */
export async function defaultPlanReader(): Promise<PlanReader | undefined> {
  return (await selectBackend('mock')).planReader;
}

/**
 * What a file is, from its first bytes: a plan (as the backend's plan reader recognizes it), safetensors
 * (a little-endian header length that fits the file, then `{`), or else ONNX. The open does not block, so a FIFO
 * is refused rather than waited on.
 */
export async function sniff(path: string, planReader?: PlanReader): Promise<'onnx' | 'safetensors' | 'plan'> {
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((e: Error) => {
    throw new CliError(`cannot open ${path}: ${e.message}`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new CliError(`cannot read ${path}: it is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`);
    const head = Buffer.alloc(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    if (planReader?.isPlan(head.subarray(0, bytesRead))) return 'plan';
    if (path.endsWith('.safetensors')) return 'safetensors';
    if (bytesRead >= 9 && head[8] === 0x7b && head.readBigUInt64LE(0) <= BigInt(st.size - 8)) return 'safetensors';
    return 'onnx';
  } finally {
    await fh.close();
  }
}
