import { createHash } from 'node:crypto';
import { Option, type Command } from 'commander';
import { byteLengthFor } from '@trt-refit/core';
import { ONNX_DTYPES, OnnxModelError, openOnnxModel, openSafetensors } from '@trt-refit/onnx';
import { CliError, ExitCode, progressBar, readInputFile, type CliIo } from '../io.js';
import { selectBackend } from '../backend.js';
import { deserializePlanFile, type DeserializeOptions } from '../plan-io.js';
import type { CommandModule } from '../program.js';
import { adapterTable, inspectAdapter, isLoraAdapter } from './lora.js';
import { defaultPlanReader, sniff } from '../source-kind.js';

/** One weight as `inspect --json` prints it. */
export interface InspectedWeight {
  name: string;
  kind: 'initializer' | 'constant' | 'sparse_initializer' | 'tensor' | 'refittable';
  scope: string;
  dtype: string;
  dims: number[];
  storage: string;
  bytes: number;
  sha256?: string;
  error?: string;
}

/** safetensors dtype names → ONNX names. */
export const SAFETENSORS_TO_ONNX: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(ONNX_DTYPES).flatMap((d) => (d.safetensors ? [[d.safetensors, d.name]] : [])),
);
const SUB_BYTE: Record<string, { bits: number; signed: boolean }> = {
  INT4: { bits: 4, signed: true }, UINT4: { bits: 4, signed: false }, FLOAT4E2M1: { bits: 4, signed: false }, INT2: { bits: 2, signed: true }, UINT2: { bits: 2, signed: false },
};

/**
 * SHA-256 of a tensor's values: little-endian at each element's natural width, sub-byte types unpacked one element
 * per byte (signed ones sign-extended; the first element in the low bits), strings as UTF-8 joined by NUL.
 */
export function weightSha256(dtype: string, count: number, bytes: Uint8Array): string {
  const h = createHash('sha256');
  const sub = SUB_BYTE[dtype];
  if (!sub) return h.update(bytes).digest('hex');
  const out = new Uint8Array(count);
  const perByte = 8 / sub.bits;
  const mask = (1 << sub.bits) - 1;
  for (let i = 0; i < count; i++) {
    let v = (bytes[Math.floor(i / perByte)]! >> ((i % perByte) * sub.bits)) & mask;
    if (sub.signed && v & (1 << (sub.bits - 1))) v -= 1 << sub.bits;
    out[i] = v & 0xff;
  }
  return h.update(out).digest('hex');
}

/** The `inspect --json` object of an ONNX, safetensors or (mock) plan file. */
export async function inspectWeightsFile(path: string, options: { hash?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<object> {
  const reader = await defaultPlanReader();
  const kind = await sniff(path, reader);
  if (kind === 'plan' && reader) return reader.describe(await readInputFile(path));
  if (kind === 'safetensors') {
    const st = await openSafetensors(path);
    const weights: InspectedWeight[] = [];
    for (const [i, t] of st.tensors.entries()) {
      const dtype = SAFETENSORS_TO_ONNX[t.dtype] ?? t.dtype;
      const w: InspectedWeight = { name: t.name, kind: 'tensor', scope: '', dtype, dims: [...t.shape], storage: 'raw', bytes: t.byteLength };
      if (options.hash) w.sha256 = weightSha256(dtype, t.shape.reduce((a, b) => a * b, 1), await st.read(t.name));
      weights.push(w);
      options.onProgress?.(i + 1, st.tensors.length);
    }
    return { format: 'safetensors', metadata: st.metadata, weights };
  }
  const model = await openOnnxModel(path);
  const tensors = model.tensors();
  const weights: InspectedWeight[] = [];
  for (const [i, t] of tensors.entries()) {
    const w: InspectedWeight = { name: t.name, kind: t.kind, scope: t.scope, dtype: t.dtypeName, dims: [...t.dims], storage: t.storage, bytes: Number.isNaN(t.byteLength) ? 0 : t.byteLength };
    if (options.hash) {
      try {
        w.sha256 = weightSha256(t.dtypeName, t.count, await model.readTensor(t));
      } catch (e) {
        w.error = (e as Error).message;
      }
    } else if (t.unsupported) w.error = t.unsupported;
    weights.push(w);
    options.onProgress?.(i + 1, tensors.length);
  }
  return { format: 'onnx', irVersion: model.irVersion, opsets: model.opsets, weights };
}

/**
 * `inspect <plan> --backend <name>`: the plan deserialized by that backend and described through the public API
 * (I/O tensors, layers after fusion, and for a refittable engine each refittable weight with its type, size and
 * location, and what is missing), so a TensorRT plan is inspected by the native backend as a mock one by the mock.
 */
export async function inspectEngineFile(backendName: string, path: string, opts: DeserializeOptions = {}): Promise<object> {
  const backend = await selectBackend(backendName);
  const engine = await deserializePlanFile(backend, path, opts);
  const weights: InspectedWeight[] = [];
  let missing: string[] = [];
  if (engine.isRefittable()) {
    const refitter = backend.createRefitter(engine);
    for (const name of refitter.getAllWeights()) {
      const p = refitter.getWeightsPrototype(name);
      weights.push({ name, kind: 'refittable', scope: '', dtype: p.type, dims: [p.count], storage: refitter.getWeightsLocation(name) ?? 'NONE', bytes: byteLengthFor(p.type, p.count) });
    }
    missing = refitter.getMissingWeights();
  }
  return {
    format: 'plan',
    backend: backend.name,
    tensorrtVersion: backend.tensorrtVersion,
    refittable: engine.isRefittable(),
    io: engine.getIOTensors(),
    layers: engine.getLayers().map((l) => ({ name: l.name, type: l.type, fusedFrom: l.fusedFrom, weights: l.weights })),
    weights,
    missing,
  };
}

function human(io: CliIo, path: string, info: { format: string; weights?: InspectedWeight[] } & Record<string, unknown>): void {
  io.stdout(`${path}: ${info.format}${info.irVersion !== undefined ? `, IR ${String(info.irVersion)}` : ''}\n`);
  const rows = (info.weights ?? []).map((w) => [w.name, w.kind, w.dtype, `[${w.dims.join(', ')}]`, w.storage, String(w.bytes), w.sha256 ?? w.error ?? '']);
  const head = ['name', 'kind', 'dtype', 'dims', 'storage', 'bytes', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) io.stdout(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  const total = (info.weights ?? []).reduce((s, w) => s + w.bytes, 0);
  io.stdout(`${rows.length} weights, ${total} bytes\n`);
}

/** `trt-refit inspect <file.onnx|file.safetensors|plan> [--json] [--hash]`. */
export const inspectCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('inspect')
      .description('list the weights of an ONNX model or safetensors file (names, dtypes, shapes, storage, sizes, hashes), or the modules of a LoRA adapter')
      .argument('<file>', 'an .onnx, .safetensors or plan file, or a LoRA adapter (file or PEFT folder)')
      .option('--json', 'machine-readable output')
      .option('--hash', 'add the SHA-256 of each weight (reads every weight)')
      .addOption(new Option('--backend <name>', 'read the file as a plan of this backend and describe its engine (layers, refittable weights, missing)').choices(['mock', 'native']))
      .option('--allow-host-code', 'with --backend: allow a version-compatible plan with an embedded lean runtime')
      .option('--lean-runtime <path>', 'with --backend: deserialize through this lean runtime')
      .option('--onnx <base.onnx>', 'with a LoRA adapter: show the engine weight each module merges into')
      .option('--base <base.safetensors>', 'with a LoRA adapter and --onnx: the base checkpoint (for exports that renamed their weights)')
      .action(async (file: string, opts: { json?: boolean; hash?: boolean; backend?: string; onnx?: string; base?: string } & DeserializeOptions) => {
        if (!opts.backend && (await isLoraAdapter(file))) {
          const info = await inspectAdapter(file, opts);
          if (opts.json) io.stdout(JSON.stringify(info) + '\n');
          else adapterTable(io, info);
          setExit(ExitCode.OK);
          return;
        }
        if (opts.onnx || opts.base) throw new CliError('--onnx and --base go with a LoRA adapter', ExitCode.USAGE);
        const bar = progressBar(io, 'hashing', !opts.hash || opts.json);
        try {
          const info = (opts.backend
            ? await inspectEngineFile(opts.backend, file, opts)
            : await inspectWeightsFile(file, {
                hash: !!opts.hash,
                onProgress: (done, total) => bar.update(done, total),
              })) as { format: string; weights?: InspectedWeight[] };
          bar.stop();
          if (opts.json) io.stdout(JSON.stringify(info) + '\n');
          else human(io, file, info);
          setExit(ExitCode.OK);
        } catch (e) {
          bar.stop();
          if (e instanceof OnnxModelError) throw new CliError(`${file}: ${e.message}`, ExitCode.REFUSED, e.code);
          throw e;
        }
      });
  },
};
