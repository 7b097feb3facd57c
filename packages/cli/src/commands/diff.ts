import { createHash } from 'node:crypto';
import { Option, type Command } from 'commander';
import { NetworkDefinition, byteLengthFor, hostBytes, type Backend, type DataType } from '@trt-refit/core';
import { ONNX_DTYPES, importOnnxModel, onnxTypeOf, openOnnxModel, openSafetensors } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { ExitCode, readInputFile, type CliIo } from '../io.js';
import type { CommandModule } from '../program.js';
import { defaultPlanReader, sniff } from '../source-kind.js';
import { SAFETENSORS_TO_ONNX } from './inspect.js';

interface Entry {
  dtype: string;
  dims: readonly number[];
  bytes: number;
  sha256: string | null;
}
/** Core (TensorRT) dtype names → ONNX names, so sources of every kind compare. */
const onnxName = (dtype: string) => SAFETENSORS_TO_ONNX[dtype] ?? ONNX_DTYPES[onnxTypeOf(dtype as DataType) ?? -1]?.name ?? dtype;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The weights of a source by name. ONNX: raw tensors, or — with `engineNames` — the weights as the engine names them
 * (the importer's names, BatchNormalization folded), so a diff maps onto a refit. safetensors: its tensors. Plan:
 * the weights it carries (stripped ones have no data to compare).
 */
async function weightsOf(path: string, engineNames: boolean): Promise<Map<string, Entry>> {
  const reader = await defaultPlanReader();
  const kind = await sniff(path, reader);
  const out = new Map<string, Entry>();
  if (kind === 'plan' && reader) {
    for (const w of reader.weights(await readInputFile(path))) out.set(w.name, { dtype: onnxName(w.dtype), dims: w.dims, bytes: w.data?.byteLength ?? 0, sha256: w.data ? sha(w.data) : null });
    return out;
  }
  if (kind === 'safetensors') {
    const st = await openSafetensors(path);
    for (const t of st.tensors) out.set(t.name, { dtype: onnxName(t.dtype), dims: t.shape, bytes: t.byteLength, sha256: sha(await st.read(t.name)) });
    return out;
  }
  const model = await openOnnxModel(path);
  if (engineNames) {
    const network = new NetworkDefinition();
    await importOnnxModel(model, network);
    for (const e of network.weightsEntries()) {
      const b = hostBytes(e.weights);
      out.set(e.name, { dtype: onnxName(e.weights.type), dims: e.dims, bytes: b.byteLength, sha256: sha(b) });
    }
    return out;
  }
  for (const t of model.tensors()) {
    if (t.unsupported) continue;
    const b = await model.readTensor(t).catch(() => null);
    out.set(t.name, { dtype: t.dtypeName, dims: t.dims, bytes: b?.byteLength ?? 0, sha256: b ? sha(b) : null });
  }
  return out;
}

/** Weights changed, added and removed from `a` to `b`; with an engine, the refit set that applies the change. */
export async function diffSources(a: string, b: string, engine?: { backend: Backend; plan: string }) {
  const [wa, wb] = await Promise.all([weightsOf(a, !!engine), weightsOf(b, !!engine)]);
  const changed: { name: string; bytes: number; reason: string }[] = [];
  const added: { name: string; bytes: number }[] = [];
  const removed: { name: string; bytes: number }[] = [];
  for (const [name, eb] of wb) {
    const ea = wa.get(name);
    if (!ea) added.push({ name, bytes: eb.bytes });
    else if (ea.dtype !== eb.dtype || ea.dims.join() !== eb.dims.join()) changed.push({ name, bytes: eb.bytes, reason: `${ea.dtype}[${ea.dims.join(', ')}] → ${eb.dtype}[${eb.dims.join(', ')}]` });
    else if (ea.sha256 !== eb.sha256) changed.push({ name, bytes: eb.bytes, reason: ea.sha256 && eb.sha256 ? 'values' : 'not comparable (no data)' });
  }
  for (const [name, ea] of wa) if (!wb.has(name)) removed.push({ name, bytes: ea.bytes });
  let refit: { set: string[]; missing: string[]; notRefittable: string[] } | undefined;
  if (engine) {
    const e = await engine.backend.createRuntime().deserializeCudaEngine(await readInputFile(engine.plan));
    const refitter = engine.backend.createRefitter(e);
    const all = new Set(refitter.getAllWeights());
    const set = changed.map((c) => c.name).filter((n) => all.has(n));
    // Which weights the engine fused with the changed ones: set placeholders of the prototype's size and ask.
    for (const n of set) {
      const p = refitter.getWeightsPrototype(n);
      refitter.setNamedWeights(n, { type: p.type, values: new Uint8Array(byteLengthFor(p.type, p.count)), count: p.count });
    }
    refit = { set, missing: refitter.getMissingWeights(), notRefittable: changed.map((c) => c.name).filter((n) => !all.has(n)) };
  }
  return { a, b, changed, added, removed, ...(refit ? { refit } : {}) };
}

export const diffCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('diff')
      .description('weights changed, added and removed between two sources (ONNX, safetensors, plan); with --engine, the refit set')
      .argument('<a>', 'first source')
      .argument('<b>', 'second source')
      .option('--engine <plan>', 'also compute the weights to set on this engine to apply the change, missing ones included')
      .addOption(new Option('--backend <name>', 'backend for --engine').choices(['mock', 'native']).default('mock'))
      .option('--json', 'machine-readable output')
      .action(async (a: string, b: string, opts: { engine?: string; backend: string; json?: boolean }) => {
        const engine = opts.engine ? { backend: await selectBackend(opts.backend), plan: opts.engine } : undefined;
        const d = await diffSources(a, b, engine);
        if (opts.json) io.stdout(JSON.stringify(d) + '\n');
        else {
          const size = (n: number) => `${n} bytes`;
          for (const c of d.changed) io.stdout(`~ ${c.name} (${size(c.bytes)}; ${c.reason})\n`);
          for (const c of d.added) io.stdout(`+ ${c.name} (${size(c.bytes)})\n`);
          for (const c of d.removed) io.stdout(`- ${c.name} (${size(c.bytes)})\n`);
          io.stdout(`${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed\n`);
          if (d.refit) io.stdout(`refit: set ${d.refit.set.join(', ') || '(nothing)'}; also needed (fused): ${d.refit.missing.join(', ') || '(nothing)'}${d.refit.notRefittable.length ? `; not refittable in this engine: ${d.refit.notRefittable.join(', ')}` : ''}\n`);
        }
        setExit(ExitCode.OK);
      });
  },
};
