import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readNpy } from '../npy.js';
import type { HostTensor } from '../interfaces.js';

/** Paths and data of the fixtures the suite uses (`fixtures/` of the repository: convbn and tinyxf). */
export class ConformanceFixtures {
  constructor(readonly dir: string) {}
  /** The path of a fixture: `parts` joined under `dir`, e.g. `path('convbn', 'convbn_a.onnx')`. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }
  /** The contents of a fixture file. */
  async bytes(...parts: string[]): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(...parts)));
  }
  /** A `.npy` fixture as a host tensor (e.g. an input or the expected logits). */
  async npy(...parts: string[]): Promise<HostTensor> {
    return readNpy(await this.bytes(...parts));
  }
  /**
   * A safetensors file's tensors as byte views (the suite reads B's checkpoint for `loadInitializer` without
   * depending on the onnx package; validation of the format is the onnx package's job and is tested there).
   */
  async safetensors(...parts: string[]): Promise<Map<string, { dtype: string; shape: number[]; data: Uint8Array }>> {
    const buf = await this.bytes(...parts);
    const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const out = new Map<string, { dtype: string; shape: number[]; data: Uint8Array }>();
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      out.set(name, { dtype: t.dtype, shape: t.shape, data: buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) });
    }
    return out;
  }
}

export { maxRelativeError } from '../compare.js';
