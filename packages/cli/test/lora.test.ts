import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxRelativeError, readNpy } from '@trt-refit/core';
import { runCli } from '@trt-refit/cli';
import { captureIo, fixture, tmp } from './helpers.js';

const lora = (p: string) => fixture(`lora/${p}`);

async function cli(args: string[], over = {}) {
  const io = captureIo(over);
  const code = await runCli(args, io);
  return { code, io, json: code === 0 && args.includes('--json') ? (JSON.parse(io.out) as Record<string, unknown>) : undefined };
}

describe('trt-refit refit --lora / inspect <adapter>', () => {
  it('merges a PEFT and a kohya adapter into a refittable plan (anonymised export, --base), and the plan runs like the merged model', async () => {
    const d = tmp();
    expect((await cli(['build', lora('xf_base_anon.onnx'), '--out', join(d, 'base.plan'), '--refit', '--json'])).code).toBe(0);
    const r = await cli(['refit', join(d, 'base.plan'), '--onnx', lora('xf_base_anon.onnx'), '--base', lora('xf_base.safetensors'), '--lora', lora('xf_peft_a'), '--lora', `${lora('xf_kohya_a.safetensors')}:0.7`, '--out', join(d, 'merged.plan'), '--include-refit', '--json']);
    expect(r.code, r.io.err).toBe(0);
    const report = r.json as { merged: { weight: string; modules: { module: string; scale: number; how: string; layout: string }[] }[]; unmatchedModules: unknown[]; refits: number };
    expect(report.unmatchedModules).toEqual([]);
    const q = report.merged.find((m) => m.modules.some((x) => x.module === 'layers.0.self_attn.q_proj'))!;
    expect(q.weight).toMatch(/^onnx::MatMul_\d+$/);
    expect(q.modules.map((x) => [x.module, x.scale, x.how, x.layout])).toEqual([
      ['layers.0.self_attn.q_proj', 1, 'content-transposed', 'cols-rows'],
      ['lora_unet_layers_0_self_attn_q_proj', 0.7, 'content-transposed', 'cols-rows'],
    ]);
    const run = await cli(['run', join(d, 'merged.plan'), '--input', `x=${lora('xf_input.npy')}`, '--output-dir', join(d, 'out'), '--json']);
    expect(run.code, run.io.err).toBe(0);
    const got = readNpy(readFileSync(join(d, 'out', 'y.npy'))).data as Float32Array;
    expect(maxRelativeError(got, readNpy(readFileSync(lora('xf_peft_a_kohya_a07_out.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-4);
  });

  it('prints what went where; reports modules it cannot place (no --base on an anonymised export) on stderr', async () => {
    const d = tmp();
    expect((await cli(['build', lora('xf_base_anon.onnx'), '--out', join(d, 'base.plan'), '--refit'])).code).toBe(0);
    const r = await cli(['refit', join(d, 'base.plan'), '--onnx', lora('xf_base_anon.onnx'), '--lora', `${lora('xf_peft_a')}:0.5`, '--out', join(d, 'm.plan')]);
    expect(r.code, r.io.err).toBe(0);
    expect(r.io.out).toMatch(/merged 0 LoRA modules into 0 weights/);
    expect(r.io.out).toMatch(/not merged: layers\.0\.self_attn\.q_proj .*no tensor layers\.0\.self_attn\.q_proj\.weight in the model \(give the base checkpoint/);
    expect(r.io.err).toMatch(/warning: 3 LoRA module\(s\) not merged/);
    const named = await cli(['build', lora('cnn_base_named.onnx'), '--out', join(d, 'cnn.plan'), '--refit']);
    expect(named.code).toBe(0);
    const c = await cli(['refit', join(d, 'cnn.plan'), '--onnx', lora('cnn_base_named.onnx'), '--lora', lora('cnn_kohya_a.safetensors'), '--out', join(d, 'cnn-m.plan')], { isTTY: true });
    expect(c.io.drawn).toMatch(/merging \[.*\] \d+%/); // a progress bar on a terminal
    expect(c.code, c.io.err).toBe(0);
    expect(c.io.out).toMatch(/merged 3 LoRA modules into 3 weights/);
    expect(c.io.out).toMatch(/conv1\.weight \+= 1 × 2\/4 × lora_unet_conv1 .*by name/);
    expect(c.io.out).toMatch(/also set from the base \(fusion partners\): .*/);
  });

  it('usage errors and bad adapters', async () => {
    const d = tmp();
    expect((await cli(['build', lora('xf_base_named.onnx'), '--out', join(d, 'p.plan'), '--refit'])).code).toBe(0);
    const noOnnx = await cli(['refit', join(d, 'p.plan'), '--lora', lora('xf_peft_a'), '--out', join(d, 'o.plan')]);
    expect(noOnnx.code).toBe(2);
    expect(noOnnx.io.err).toMatch(/--lora needs --onnx/);
    const badScale = await cli(['refit', join(d, 'p.plan'), '--onnx', lora('xf_base_named.onnx'), '--lora', `${lora('xf_peft_a')}:fast`, '--out', join(d, 'o.plan')]);
    expect(badScale.code).toBe(2);
    expect(badScale.io.err).toMatch(/the scale after ":" must be a number, got "fast"/);
    const baseAlone = await cli(['refit', join(d, 'p.plan'), '--onnx', lora('xf_base_named.onnx'), '--base', lora('xf_base.safetensors'), '--out', join(d, 'o.plan')]);
    expect(baseAlone.code).toBe(2);
    const notAdapter = await cli(['refit', join(d, 'p.plan'), '--onnx', lora('xf_base_named.onnx'), '--lora', lora('xf_base.safetensors'), '--out', join(d, 'o.plan')]);
    expect(notAdapter.code).toBe(1);
    expect(notAdapter.io.err).toMatch(/keys that are not LoRA factors or alphas: .*layers\.0\.input_layernorm\.weight/);
  });

  it('inspect <adapter> lists modules, rank, alpha and, with --onnx and --base, the target weights', async () => {
    const plain = await cli(['inspect', lora('xf_kohya_a.safetensors'), '--json']);
    expect(plain.code).toBe(0);
    const p = plain.json as { format: string; loraFormat: string; modules: { module: string; rank: number; alpha: number; kind: string }[] };
    expect(p).toMatchObject({ format: 'lora', loraFormat: 'kohya' });
    expect(p.modules.find((m) => m.module === 'lora_unet_layers_0_mlp_down_proj')).toMatchObject({ rank: 8, alpha: 8, kind: 'linear' });
    const mapped = await cli(['inspect', lora('xf_peft_b'), '--onnx', lora('xf_base_anon.onnx'), '--base', lora('xf_base.safetensors'), '--json']);
    expect(mapped.code, mapped.io.err).toBe(0);
    const mm = mapped.json as { modules: { module: string; rank: number; alpha: number; target: { weight: string; how: string } | null }[] };
    expect(mm.modules.find((m) => m.module === 'head')).toMatchObject({ rank: 2, alpha: 4, target: { how: 'content-transposed' } });
    expect(mm.modules.find((m) => m.module === 'layers.0.mlp.down_proj')).toMatchObject({ rank: 8, alpha: 16 });
    expect(mm.modules.every((m) => m.target?.weight.startsWith('onnx::MatMul_'))).toBe(true);
    const human = await cli(['inspect', lora('cnn_peft_a'), '--onnx', lora('cnn_base_anon.onnx'), '--base', lora('cnn_base.safetensors')]);
    expect(human.code).toBe(0);
    expect(human.io.out).toMatch(/LoRA adapter \(peft\), 3 modules/);
    expect(human.io.out).toMatch(/conv1\s+conv\s+4\s+8\s+\[\d+, 3, 3, 3\]\s+unmatched: conv1\.weight matches no initializer/);
    expect(human.io.out).toMatch(/conv2\s+conv\s+2\s+8\s+\[\d+, \d+, 1, 1\]\s+conv2\.weight \(by name\)/);
  });
});
