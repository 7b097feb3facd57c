import { createHash } from 'node:crypto';
import { Option, type Command } from 'commander';
import { NetworkDefinition, byteLengthFor, hostBytes, type Backend, type DataType, type PlanReader } from '@trt-refit/core';
import { ONNX_DTYPES, importOnnxModel, matchCheckpoint, onnxTypeOf, openOnnxModel, openSafetensors, transpose2d, withInitializers, type OnnxModel } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { ExitCode, readInputFile, readNameMap, type CliIo } from '../io.js';
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

const entryOf = (dtype: string, dims: readonly number[], data: Uint8Array | null | undefined): Entry => ({ dtype, dims, bytes: data?.byteLength ?? 0, sha256: data ? sha(data) : null });

/**
 * The weights of an ONNX model: raw initializers and constants, or — with `engineNames` — the weights as the engine
 * names them (the importer's names, BatchNormalization folded), so a diff maps onto a refit.
 */
async function modelWeights(model: OnnxModel, engineNames: boolean): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  if (engineNames) {
    const network = new NetworkDefinition();
    await importOnnxModel(model, network);
    for (const e of network.weightsEntries()) out.set(e.name, entryOf(onnxName(e.weights.type), e.dims, hostBytes(e.weights)));
    return out;
  }
  for (const t of model.tensors()) {
    if (t.unsupported) continue;
    out.set(t.name, entryOf(t.dtypeName, t.dims, await model.readTensor(t).catch(() => null)));
  }
  return out;
}

/** A plan's weights (stripped ones have no data to compare) or a checkpoint's tensors under their own names. */
async function fileWeights(path: string, kind: 'plan' | 'safetensors', reader: PlanReader | undefined): Promise<Map<string, Entry>> {
  const entries = new Map<string, Entry>();
  if (kind === 'plan') for (const w of reader!.weights(await readInputFile(path))) entries.set(w.name, entryOf(onnxName(w.dtype), w.dims, w.data));
  else {
    const st = await openSafetensors(path);
    for (const t of st.tensors) entries.set(t.name, entryOf(onnxName(t.dtype), t.shape, await st.read(t.name)));
  }
  return entries;
}

/**
 * An ONNX model against a safetensors checkpoint, with the name matching `refit --safetensors` uses
 * (`matchCheckpoint`: names, map, content, unique shapes, transposed 2-D weights). The checkpoint side is the model
 * with the matched initializers replaced (`withInitializers`), so both sides are compared under the model's names
 * (engine names with `engineNames`); checkpoint tensors matched to nothing keep their own names, and initializers the
 * checkpoint has no tensor for are reported in `notInCheckpoint`.
 */
async function modelAndCheckpoint(onnxPath: string, stPath: string, engineNames: boolean, map: Readonly<Record<string, string>>) {
  const model = await openOnnxModel(onnxPath);
  const st = await openSafetensors(stPath);
  const matching = await matchCheckpoint(model, st, map);
  const infos = new Map(model.tensors().map((t) => [t.name, t]));
  const overrides = new Map<string, Uint8Array>();
  for (const m of matching.matches) {
    const t = infos.get(m.initializer)!;
    const data = await st.read(m.checkpoint);
    overrides.set(m.initializer, m.transpose ? transpose2d(data, t.dims[1]!, t.dims[0]!, data.length / (t.count || 1)) : data);
  }
  const onnx = await modelWeights(model, engineNames);
  let ckpt: Map<string, Entry>;
  if (engineNames) ckpt = await modelWeights(withInitializers(model, overrides), true);
  else {
    ckpt = new Map();
    for (const [name, data] of overrides) {
      const t = infos.get(name)!;
      ckpt.set(name, entryOf(t.dtypeName, t.dims, data));
    }
  }
  const ckInfo = new Map(st.tensors.map((t) => [t.name, t]));
  for (const name of matching.unmatchedCheckpoint) {
    const t = ckInfo.get(name)!;
    ckpt.set(name, entryOf(onnxName(t.dtype), t.shape, await st.read(name)));
  }
  const matched = matching.matches.filter((m) => m.how !== 'name').map(({ checkpoint, initializer, how }) => ({ checkpoint, initializer, how }));
  // Without engine names, initializers the checkpoint lacks are simply absent from its side (only in the model).
  return { onnx, ckpt, matched, notInCheckpoint: matching.unmatchedModel };
}

export interface DiffResult {
  readonly a: string;
  readonly b: string;
  /** In both, comparable, and different: values, or type/shape (`reason`). */
  readonly changed: { name: string; bytes: number; reason: string }[];
  readonly unchanged: string[];
  /** In both, but one side has no data to compare (a weight-stripped plan's refittable weights). */
  readonly notComparable: { name: string; reason: string }[];
  readonly onlyInA: { name: string; bytes: number }[];
  readonly onlyInB: { name: string; bytes: number }[];
  /** ONNX + safetensors: checkpoint tensors matched to initializers of another name, and how. */
  readonly matched?: { checkpoint: string; initializer: string; how: string }[];
  /** ONNX + safetensors: initializers the checkpoint has no tensor for (the model's values are used). */
  readonly notInCheckpoint?: string[];
  /**
   * With an engine: the changed weights to set (`set`), the weights fused with them that must be set too (`missing`),
   * changed weights the engine does not list as refittable (`notInEngine`: absent, or not refittable there), and
   * names the engine has for a weight of another type or size (`otherShape`: not this model's weight).
   */
  readonly refit?: { set: string[]; missing: string[]; notInEngine: string[]; otherShape: string[] };
}

/**
 * Weights changed, unchanged, not comparable and only on one side from `a` to `b` (ONNX, safetensors, plan); with an
 * engine, the refit set that applies the change.
 */
export async function diffSources(a: string, b: string, engine?: { backend: Backend; plan: string }, map: Readonly<Record<string, string>> = {}): Promise<DiffResult> {
  const reader = await defaultPlanReader();
  const [ka, kb] = await Promise.all([sniff(a, reader), sniff(b, reader)]);
  let wa: Map<string, Entry>, wb: Map<string, Entry>;
  let extra: Pick<DiffResult, 'matched' | 'notInCheckpoint'> = {};
  const pair = (ka === 'onnx' && kb === 'safetensors') || (ka === 'safetensors' && kb === 'onnx');
  if (pair) {
    const r = await modelAndCheckpoint(ka === 'onnx' ? a : b, ka === 'onnx' ? b : a, !!engine, map);
    [wa, wb] = ka === 'onnx' ? [r.onnx, r.ckpt] : [r.ckpt, r.onnx];
    extra = { matched: r.matched, notInCheckpoint: r.notInCheckpoint };
  } else {
    // A plan holds the engine's names: compare an ONNX model against it under the names its import gives.
    const engineNames = !!engine || ka === 'plan' || kb === 'plan';
    const side = async (p: string, k: typeof ka) => (k === 'onnx' ? modelWeights(await openOnnxModel(p), engineNames) : fileWeights(p, k, reader));
    [wa, wb] = await Promise.all([side(a, ka), side(b, kb)]);
  }
  const changed: DiffResult['changed'] = [];
  const unchanged: string[] = [];
  const notComparable: DiffResult['notComparable'] = [];
  const onlyInB: DiffResult['onlyInB'] = [];
  for (const [name, eb] of wb) {
    const ea = wa.get(name);
    if (!ea) onlyInB.push({ name, bytes: eb.bytes });
    else if (ea.dtype !== eb.dtype || ea.dims.join() !== eb.dims.join()) changed.push({ name, bytes: eb.bytes, reason: `${ea.dtype}[${ea.dims.join(', ')}] → ${eb.dtype}[${eb.dims.join(', ')}]` });
    else if (!ea.sha256 || !eb.sha256) notComparable.push({ name, reason: `no data in ${[!ea.sha256 ? a : '', !eb.sha256 ? b : ''].filter(Boolean).join(' and ')} (weight-stripped)` });
    else if (ea.sha256 !== eb.sha256) changed.push({ name, bytes: eb.bytes, reason: 'values' });
    else unchanged.push(name);
  }
  const onlyInA = [...wa].filter(([name]) => !wb.has(name)).map(([name, e]) => ({ name, bytes: e.bytes }));
  let refit: DiffResult['refit'];
  if (engine) {
    const e = await engine.backend.createRuntime().deserializeCudaEngine(await readInputFile(engine.plan));
    const refitter = engine.backend.createRefitter(e);
    const all = new Set(refitter.getAllWeights());
    // A name the engine has for a weight of another type or size (generated names recur across models) is no
    // weight of this change: setting it would be refused.
    const fits = (n: string) => {
      const p = refitter.getWeightsPrototype(n);
      const e = wb.get(n)!;
      return onnxName(p.type) === e.dtype && p.count === e.dims.reduce((x, y) => x * y, 1);
    };
    const set = changed.map((c) => c.name).filter((n) => all.has(n) && fits(n));
    // Which weights the engine fused with the changed ones: set placeholders of the prototype's size and ask.
    for (const n of set) {
      const p = refitter.getWeightsPrototype(n);
      refitter.setNamedWeights(n, { type: p.type, values: new Uint8Array(byteLengthFor(p.type, p.count)), count: p.count });
    }
    const other = changed.map((c) => c.name).filter((n) => all.has(n) && !set.includes(n));
    refit = { set, missing: refitter.getMissingWeights(), notInEngine: changed.map((c) => c.name).filter((n) => !all.has(n)), otherShape: other };
  }
  return { a, b, changed, unchanged, notComparable, onlyInA, onlyInB, ...extra, ...(refit ? { refit } : {}) };
}

export const diffCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('diff')
      .description('weights changed, unchanged, not comparable and only on one side between two sources (ONNX, safetensors, plan); with --engine, the refit set')
      .argument('<a>', 'first source')
      .argument('<b>', 'second source')
      .option('--engine <plan>', 'also compute the weights to set on this engine to apply the change, missing ones included')
      .option('--map <map.json>', 'ONNX + safetensors: checkpoint name → ONNX initializer name, for names automatic matching cannot derive (as refit --map)')
      .addOption(new Option('--backend <name>', 'backend for --engine').choices(['mock', 'native']).default('mock'))
      .option('--json', 'machine-readable output')
      .action(async (a: string, b: string, opts: { engine?: string; map?: string; backend: string; json?: boolean }) => {
        const engine = opts.engine ? { backend: await selectBackend(opts.backend), plan: opts.engine } : undefined;
        const map = opts.map ? await readNameMap(opts.map) : {};
        const d = await diffSources(a, b, engine, map);
        if (d.refit && d.refit.set.length === 0 && d.changed.length > 0)
          io.stderr(`warning: none of the ${d.changed.length} changed weights is a refittable weight of ${opts.engine}: was it built from this model, with --refit?\n`);
        if (opts.json) io.stdout(JSON.stringify(d) + '\n');
        else {
          for (const c of d.changed) io.stdout(`~ ${c.name} (${c.bytes} bytes; ${c.reason})\n`);
          for (const c of d.notComparable) io.stdout(`? ${c.name} (not comparable: ${c.reason})\n`);
          for (const c of d.onlyInA) io.stdout(`- ${c.name} (${c.bytes} bytes; only in ${a})\n`);
          for (const c of d.onlyInB) io.stdout(`+ ${c.name} (${c.bytes} bytes; only in ${b})\n`);
          for (const m of d.matched ?? []) io.stdout(`  ${m.checkpoint} = ${m.initializer} (matched by ${m.how})\n`);
          if (d.notInCheckpoint?.length) io.stdout(`  not in the checkpoint (the model's values): ${d.notInCheckpoint.join(', ')}\n`);
          io.stdout(`${d.changed.length} changed, ${d.unchanged.length} unchanged, ${d.notComparable.length} not comparable, ${d.onlyInA.length} only in A, ${d.onlyInB.length} only in B\n`);
          if (d.refit) io.stdout(`refit: set ${d.refit.set.join(', ') || '(nothing)'}; also needed (fused): ${d.refit.missing.join(', ') || '(nothing)'}${d.refit.notInEngine.length ? `; not refittable weights of this engine: ${d.refit.notInEngine.join(', ')}` : ''}${d.refit.otherShape.length ? `; of another type or size in this engine: ${d.refit.otherShape.join(', ')}` : ''}\n`);
        }
        setExit(ExitCode.OK);
      });
  },
};
