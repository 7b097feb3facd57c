import { existsSync, statSync } from 'node:fs';
import { LoraAdapterError, LoraRefitError, LoraRefitter, openLoraAdapter, openOnnxModel, openSafetensors, resolveLoraTargets, type LoraAdapter, type LoraApplication, type LoraReport } from '@trt-refit/onnx';
import type { Backend, CudaEngine } from '@trt-refit/core';
import { CliError, ExitCode, progressBar, type CliIo } from '../io.js';

/** `--lora <adapter>[:scale]` → path and scale (default 1); the scale is the text after the last colon when it is a number. */
export function parseLoraArg(arg: string): { path: string; scale: number } {
  const i = arg.lastIndexOf(':');
  if (i > 0) {
    const tail = arg.slice(i + 1);
    if (tail !== '' && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(tail)) return { path: arg.slice(0, i), scale: Number(tail) };
    if (!existsSync(arg)) throw new CliError(`--lora ${arg}: the scale after ":" must be a number, got ${JSON.stringify(tail)}`, ExitCode.USAGE);
  }
  return { path: arg, scale: 1 };
}

async function openAdapter(path: string): Promise<LoraAdapter> {
  try {
    return await openLoraAdapter(path);
  } catch (e) {
    if (e instanceof LoraAdapterError) throw new CliError(e.message, ExitCode.REFUSED, e.code);
    throw new CliError(`--lora ${path}: ${(e as Error).message}`);
  }
}

/**
 * `refit <plan> --onnx <base.onnx> --lora <adapter>[:scale] … [--base <base.safetensors>]`: merges the adapters into
 * the base weights and refits (LoraRefitter), with a progress bar on a terminal. Returns the report.
 */
export async function refitWithLora(io: CliIo, backend: Backend, engine: CudaEngine, onnx: string, loras: readonly string[], opts: { base?: string; json?: boolean }): Promise<LoraReport> {
  const apps: LoraApplication[] = [];
  for (const arg of loras) {
    const { path, scale } = parseLoraArg(arg);
    apps.push({ adapter: await openAdapter(path), scale });
  }
  const bar = progressBar(io, 'merging', opts.json);
  const lora = await LoraRefitter.open(backend, engine, onnx, { ...(opts.base ? { base: opts.base } : {}), onProgress: (p) => bar.update(p.done, p.total) });
  try {
    return await lora.apply(apps);
  } catch (e) {
    if (e instanceof LoraRefitError) throw new CliError(`the LoRA refit of ${onnx} failed; nothing written:\n  ${e.reasons.join('\n  ')}`);
    throw e;
  } finally {
    bar.stop();
    await lora.dispose();
  }
}

/** The human lines of a LoRA refit report. */
export function loraSummary(report: LoraReport): string[] {
  const lines: string[] = [];
  for (const m of report.merged) {
    if (!m.modules.length) lines.push(`  ${m.weight}: base restored`);
    for (const x of m.modules) lines.push(`  ${m.weight} += ${x.scale} × ${x.alpha}/${x.rank} × ${x.module} (${x.adapter}; by ${x.how}${x.layout === 'cols-rows' ? ', transposed' : ''})`);
  }
  if (report.missingFromBase.length) lines.push(`  also set from the base (fusion partners): ${report.missingFromBase.join(', ')}`);
  for (const u of report.unmatchedModules) lines.push(`  not merged: ${u.module} (${u.adapter}): ${u.reason}`);
  if (report.unmatchedCheckpoint.length) lines.push(`  base checkpoint tensors not in the model: ${report.unmatchedCheckpoint.join(', ')}`);
  return lines;
}

/** True when `path` is a LoRA adapter: a folder with adapter_model.safetensors, or a safetensors file with LoRA keys. */
export async function isLoraAdapter(path: string): Promise<boolean> {
  if (existsSync(path) && statSync(path).isDirectory()) return existsSync(`${path}/adapter_model.safetensors`);
  if (!path.endsWith('.safetensors')) return false;
  try {
    const st = await openSafetensors(path);
    return st.tensors.some((t) => /(\.lora_[AB]\.weight|\.lora_(down|up)\.weight|[._]lora\.(down|up)\.weight)$/.test(t.name));
  } catch {
    return false;
  }
}

/** `inspect <adapter> [--onnx <base.onnx>] [--base <base.safetensors>]`: modules, rank, alpha, and where each goes. */
export async function inspectAdapter(path: string, opts: { onnx?: string; base?: string }): Promise<object> {
  const adapter = await openAdapter(path);
  const targets = new Map<string, { weight: string; checkpoint: string; how: string; layout: string }>();
  let unmatched: { module: string; reason: string }[] = [];
  if (opts.onnx) {
    const model = await openOnnxModel(opts.onnx);
    const r = await resolveLoraTargets(model, [adapter], opts.base ? { base: await openSafetensors(opts.base) } : {});
    for (const t of r.targets) targets.set(t.module.key, { weight: t.weight, checkpoint: t.checkpoint, how: t.how, layout: t.layout });
    unmatched = r.unmatchedModules.map((u) => ({ module: u.module, reason: u.reason }));
  }
  return {
    format: 'lora',
    adapter: adapter.path,
    loraFormat: adapter.format,
    modules: adapter.modules.map((m) => ({
      module: m.key,
      kind: m.kind,
      rank: m.rank,
      alpha: m.alpha,
      weightShape: m.weightShape,
      ...(opts.onnx ? { target: targets.get(m.key) ?? null, reason: unmatched.find((u) => u.module === m.key)?.reason } : {}),
    })),
  };
}

/** The human table of {@link inspectAdapter}'s result. */
export function adapterTable(io: CliIo, info: ReturnType<typeof inspectAdapter> extends Promise<infer T> ? T : never): void {
  const i = info as { adapter: string; loraFormat: string; modules: { module: string; kind: string; rank: number; alpha: number; weightShape: number[]; target?: { weight: string; how: string; layout: string } | null; reason?: string }[] };
  io.stdout(`${i.adapter}: LoRA adapter (${i.loraFormat}), ${i.modules.length} modules\n`);
  const rows = i.modules.map((m) => [
    m.module,
    m.kind,
    String(m.rank),
    String(m.alpha),
    `[${m.weightShape.join(', ')}]`,
    m.target === undefined ? '' : m.target ? `${m.target.weight} (by ${m.target.how}${m.target.layout === 'cols-rows' ? ', transposed' : ''})` : `unmatched: ${m.reason ?? ''}`,
  ]);
  const head = ['module', 'kind', 'rank', 'alpha', 'weight shape', 'target'];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  for (const r of [head, ...rows]) io.stdout(r.map((c, k) => c.padEnd(widths[k]!)).join('  ').trimEnd() + '\n');
}
