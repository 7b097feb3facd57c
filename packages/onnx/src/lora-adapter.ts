import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TrtRefitError, TrtRefitErrorCode } from '@trt-refit/core';
import { bf16ToFloat, halfToFloat } from './half.js';
import { openSafetensors, type Safetensors, type SafetensorsTensor } from './safetensors.js';

/** The key conventions of a LoRA adapter file. */
export type LoraFormat = 'peft' | 'kohya';

/** A LoRA adapter that cannot be used: every problem is listed in `problems` (nothing of it was applied). */
export class LoraAdapterError extends TrtRefitError {
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(TrtRefitErrorCode.INVALID_MODEL, `LoRA adapter ${path} cannot be used:\n  ${problems.join('\n  ')}`, { path, problems });
  }
}

/**
 * One adapted module: the low-rank factors `down` (A, [rank, in] or a conv weight [rank, in, kh, kw]) and `up`
 * (B, [out, rank] or [out, rank, 1, 1]), so that the module's weight W [out, in(, kh, kw)] becomes
 * W + scale · (alpha / rank) · B·A.
 */
export interface LoraModule {
  /**
   * The module as the adapter names it, without its format's suffixes: PEFT `layers.0.q_proj` (the
   * `base_model.model.` prefix removed), kohya `lora_unet_layers_0_q_proj` (mangled: dots became underscores).
   */
  readonly key: string;
  readonly rank: number;
  /** The alpha of this module (a per-module alpha tensor, the config's `alpha_pattern`, `lora_alpha`, or the rank). */
  readonly alpha: number;
  /** `linear`: 2-D factors; `conv`: 4-D factors (a k×k or 1×1 down, a 1×1 up). */
  readonly kind: 'linear' | 'conv';
  /** Rows of the 2-D update (the module's output features). */
  readonly rows: number;
  /** Columns of the 2-D update (input features × kernel elements). */
  readonly cols: number;
  /** The shape the module's weight must have: [out, in] or [out, in, kh, kw]. */
  readonly weightShape: readonly number[];
  readonly down: SafetensorsTensor;
  readonly up: SafetensorsTensor;
}

/** A LoRA adapter file (PEFT/diffusers or kohya/A1111 keys), read lazily: factors are read when merged. */
export interface LoraAdapter {
  /** The safetensors file. */
  readonly path: string;
  readonly format: LoraFormat;
  readonly modules: readonly LoraModule[];
  /** The factors of a module as float32: A [rank, cols] and B [rows, rank] (converted from F16/BF16/F64). */
  readFactors(module: LoraModule): Promise<{ a: Float32Array; b: Float32Array }>;
}

/** Options of {@link openLoraAdapter}. */
export interface OpenLoraAdapterOptions {
  /**
   * PEFT's `adapter_config.json` (its `r`, `lora_alpha`, `rank_pattern`, `alpha_pattern`); default: the one beside
   * the file, if any. Not needed by kohya files, whose alphas are tensors.
   */
  readonly config?: string;
}

interface PeftConfig {
  r?: number;
  lora_alpha?: number;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  use_dora?: boolean;
}

// Suffixes of the factors, by format. PEFT (and diffusers' PEFT-style files): lora_A/lora_B; diffusers' older
// attention-processor files: .lora.down/.lora.up (also "_lora.down"); kohya/A1111: lora_down/lora_up.
const SUFFIXES: readonly { down: string; up: string; format: LoraFormat }[] = [
  { down: '.lora_A.weight', up: '.lora_B.weight', format: 'peft' },
  { down: '.lora.down.weight', up: '.lora.up.weight', format: 'peft' },
  { down: '_lora.down.weight', up: '_lora.up.weight', format: 'peft' },
  { down: '.lora_down.weight', up: '.lora_up.weight', format: 'kohya' },
];
// Keys of LoRA variants whose merge is not W + s·B·A: refused by name rather than merged wrongly.
const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\.(hada_w[12]_[ab]|hada_t[12])$/, 'LoHa factors (not a LoRA: W + (w1a·w1b)∘(w2a·w2b))'],
  [/\.(lokr_w[12](_[ab])?|lokr_t2)$/, 'LoKr factors (a Kronecker product, not a LoRA)'],
  [/\.lora_mid\.weight$/, 'a LoCon mid factor (a three-factor conv LoRA)'],
  [/\.(dora_scale|lora_magnitude_vector(\.weight)?)$/, 'a DoRA magnitude (W is renormalised, not W + s·B·A)'],
  [/\.(diff|diff_b|bias)$/, 'a full weight or bias difference'],
];

const PEFT_PREFIX = 'base_model.model.';

/**
 * Opens a LoRA adapter: a safetensors file, or a folder holding `adapter_model.safetensors` (and PEFT's
 * `adapter_config.json`). Recognises PEFT/diffusers keys (`<module>.lora_A.weight` [r, in], `.lora_B.weight`
 * [out, r]; alphas from the config or per-module `<module>.alpha` tensors) and kohya/A1111 keys
 * (`lora_unet_<module_with_underscores>.lora_down.weight`, `.lora_up.weight`, `.alpha`), for Linear and Conv
 * (1×1 and k×k) modules. Only the header is read now.
 * @throws LoraAdapterError listing every key it does not understand and every malformed module (ranks that
 * disagree, shapes that are not a LoRA, a missing half, an alpha that is not a scalar), so nothing is half-applied.
 */
export async function openLoraAdapter(path: string, options: OpenLoraAdapterOptions = {}): Promise<LoraAdapter> {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'adapter_model.safetensors');
    if (!existsSync(file)) throw new LoraAdapterError(path, [`the folder has no adapter_model.safetensors`]);
  }
  const configPath = options.config ?? [join(dirname(file), 'adapter_config.json')].find((p) => existsSync(p));
  let config: PeftConfig = {};
  if (configPath) {
    try {
      config = JSON.parse(await readFile(configPath, 'utf8')) as PeftConfig;
    } catch (e) {
      throw new LoraAdapterError(file, [`${basename(configPath)} is not JSON: ${(e as Error).message}`]);
    }
    if (config === null || typeof config !== 'object') throw new LoraAdapterError(file, [`${basename(configPath)} is not a JSON object`]);
  }
  const st = await openSafetensors(file);
  return parseAdapter(file, st, config);
}

async function parseAdapter(path: string, st: Safetensors, config: PeftConfig): Promise<LoraAdapter> {
  const problems: string[] = [];
  const unknown: string[] = [];
  const parts = new Map<string, { down?: SafetensorsTensor; up?: SafetensorsTensor; alpha?: SafetensorsTensor; format?: LoraFormat }>();
  const entry = (key: string) => {
    let e = parts.get(key);
    if (!e) parts.set(key, (e = {}));
    return e;
  };
  for (const t of st.tensors) {
    const name = t.name;
    const bad = UNSUPPORTED.find(([re]) => re.test(name));
    if (bad) {
      problems.push(`${name}: ${bad[1]} is not supported`);
      continue;
    }
    const s = SUFFIXES.find((x) => name.endsWith(x.down) || name.endsWith(x.up));
    if (s) {
      const isDown = name.endsWith(s.down);
      let key = name.slice(0, name.length - (isDown ? s.down : s.up).length);
      if (s.format === 'peft' && key.startsWith(PEFT_PREFIX)) key = key.slice(PEFT_PREFIX.length);
      const e = entry(key);
      if (e.format && e.format !== s.format) problems.push(`${key}: both ${e.format} and ${s.format} keys`);
      e.format = s.format;
      if (isDown) e.down = t;
      else e.up = t;
      continue;
    }
    if (name.endsWith('.alpha')) {
      let key = name.slice(0, -'.alpha'.length);
      if (key.startsWith(PEFT_PREFIX)) key = key.slice(PEFT_PREFIX.length);
      entry(key).alpha = t;
      continue;
    }
    unknown.push(name);
  }
  if (unknown.length) problems.push(`keys that are not LoRA factors or alphas: ${unknown.join(', ')}`);
  if (config.use_dora) problems.push('adapter_config.json has use_dora: DoRA adapters are not a plain W + s·B·A merge');
  const formats = new Set([...parts.values()].map((e) => e.format).filter((f) => f !== undefined));
  if (formats.size > 1) problems.push('the file mixes PEFT and kohya keys');
  const format: LoraFormat = formats.has('kohya') ? 'kohya' : 'peft';
  const modules: LoraModule[] = [];
  const alphaReads: [LoraModule, SafetensorsTensor][] = [];
  for (const [key, e] of parts) {
    if (!e.down || !e.up) {
      problems.push(`${key}: ${e.down ? 'an up (B) factor' : e.up ? 'a down (A) factor' : 'both factors'} missing${e.alpha && !e.down && !e.up ? ' (an alpha alone)' : ''}`);
      continue;
    }
    const m = moduleOf(key, e.down, e.up, config, format, problems);
    if (!m) continue;
    if (e.alpha) {
      if (e.alpha.shape.reduce((a, b) => a * b, 1) !== 1 || !['F32', 'F16', 'BF16', 'F64'].includes(e.alpha.dtype)) {
        problems.push(`${key}.alpha must be one float, got ${e.alpha.dtype}[${e.alpha.shape.join(', ')}]`);
        continue;
      }
      alphaReads.push([m, e.alpha]);
    }
    modules.push(m);
  }
  if (!modules.length && !problems.length) problems.push('no LoRA modules in the file');
  if (problems.length) throw new LoraAdapterError(path, problems);
  // Per-module alpha tensors are tiny: read them now, so `alpha` is a plain number on every module.
  const alphas = new Map<LoraModule, number>();
  for (const [m, t] of alphaReads) {
    const v = toFloat32(await st.read(t.name), t)[0]!;
    if (!Number.isFinite(v)) throw new LoraAdapterError(path, [`${m.key}.alpha is ${v}`]);
    alphas.set(m, v);
  }
  return {
    path,
    format,
    modules: modules.map((m) => (alphas.has(m) ? { ...m, alpha: alphas.get(m)! } : m)),
    async readFactors(module) {
      return { a: toFloat32(await st.read(module.down.name), module.down), b: toFloat32(await st.read(module.up.name), module.up) };
    },
  };
}

function moduleOf(key: string, down: SafetensorsTensor, up: SafetensorsTensor, config: PeftConfig, format: LoraFormat, problems: string[]): LoraModule | undefined {
  const floats = ['F32', 'F16', 'BF16', 'F64'];
  for (const t of [down, up]) if (!floats.includes(t.dtype)) return void problems.push(`${t.name}: dtype ${t.dtype}, a float type is needed`);
  const d = down.shape;
  const u = up.shape;
  let kind: 'linear' | 'conv';
  let rank: number;
  let rows: number;
  let cols: number;
  let weightShape: number[];
  if (d.length === 2 && u.length === 2) {
    kind = 'linear';
    [rank, cols] = d as [number, number];
    rows = u[0]!;
    weightShape = [rows, cols];
    if (u[1] !== rank) return void problems.push(`${key}: down is [${d.join(', ')}] (rank ${rank}) but up is [${u.join(', ')}]`);
  } else if (d.length === 4 && u.length === 4) {
    kind = 'conv';
    rank = d[0]!;
    rows = u[0]!;
    cols = d[1]! * d[2]! * d[3]!;
    weightShape = [rows, d[1]!, d[2]!, d[3]!];
    if (u[1] !== rank || u[2] !== 1 || u[3] !== 1) return void problems.push(`${key}: down is [${d.join(', ')}] (rank ${rank}) but up is [${u.join(', ')}], [out, ${rank}, 1, 1] is needed`);
  } else {
    return void problems.push(`${key}: factors of shapes [${d.join(', ')}] and [${u.join(', ')}] are not a Linear (2-D) or Conv (4-D) LoRA`);
  }
  if (!(rank > 0 && rows > 0 && cols > 0)) return void problems.push(`${key}: empty factors ([${d.join(', ')}], [${u.join(', ')}])`);
  // PEFT: rank_pattern / alpha_pattern keys match the module name or its end; lora_alpha; else alpha = rank.
  const pattern = (p: Record<string, number> | undefined) => {
    if (!p || typeof p !== 'object') return undefined;
    const hit = Object.keys(p).find((k) => key === k || key.endsWith(`.${k}`));
    return hit === undefined ? undefined : p[hit];
  };
  let alpha = rank;
  if (format === 'peft') {
    const a = pattern(config.alpha_pattern) ?? config.lora_alpha;
    if (a !== undefined) {
      if (typeof a !== 'number' || !Number.isFinite(a)) return void problems.push(`${key}: lora_alpha ${JSON.stringify(a)} is not a number`);
      alpha = a;
    }
    const r = pattern(config.rank_pattern) ?? config.r;
    if (r !== undefined && r !== rank) return void problems.push(`${key}: the factors have rank ${rank} but adapter_config.json says ${r}`);
  }
  return { key, rank, alpha, kind, rows, cols, weightShape, down, up };
}

/** Float32 values of a tensor's little-endian bytes (F32, F16, BF16, F64); a copy, aligned. */
export function toFloat32(bytes: Uint8Array, t: { dtype: string; name: string }): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(new Uint8Array(bytes).buffer);
    case 'F64': {
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(bytes.byteLength / 2);
      const conv = t.dtype === 'F16' ? halfToFloat : bf16ToFloat;
      for (let i = 0; i < out.length; i++) out[i] = conv(dv.getUint16(i * 2, true));
      return out;
    }
    default:
      throw new LoraAdapterError(t.name, [`dtype ${t.dtype} is not a float type`]);
  }
}
