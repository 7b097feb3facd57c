import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, NetworkDefinition, TrtRefitErrorCode, hostBytes, resolveBuildMode } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel } from '@trt-refit/onnx';
import { InvalidPlanError, isPlan, planEngine, readPlan, writePlan, type PlanContents } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));

async function convbnPlan(flags: BuilderFlag[]): Promise<PlanContents> {
  const network = new NetworkDefinition();
  await importOnnxModel(await openOnnxModel(fixture('convbn/convbn_a.onnx')), network);
  const mode = resolveBuildMode(flags, '10.16');
  const engine = planEngine(network, mode);
  const data = new Map(network.weightsEntries().map((e) => [e.name, hostBytes(e.weights)]));
  return {
    tensorrtVersion: '10.16',
    builderFlags: flags,
    serializationFlags: [],
    refittable: mode.refit !== 'none',
    strippedBuild: mode.strip !== 'none',
    weightsExcluded: mode.strip !== 'none',
    versionCompatible: false,
    leanRuntime: 'none',
    inputs: network.inputs,
    outputs: network.outputs,
    networkLayers: network.layers.map((l) => ({ name: l.name, type: l.type, inputs: l.inputs, outputs: l.outputs, attributes: l.attributes, weights: l.weights.map((w) => ({ role: w.role, name: network.getWeightsName(w.weights)! })) })),
    engineLayers: engine.layers,
    weights: engine.weights.map((w) => ({ ...w, contentHash: createHash('sha256').update(data.get(w.name)!).digest(), data: w.stripped ? null : data.get(w.name)! })),
    fusionGroups: engine.fusionGroups,
  };
}

describe('plan files (flatbuffers)', () => {
  it('round-trip every field; weight data are 64-aligned views into the plan', async () => {
    const contents = await convbnPlan([BuilderFlag.REFIT]);
    const bytes = writePlan(contents);
    expect(isPlan(bytes)).toBe(true);
    const back = readPlan(bytes);
    const strip = (p: PlanContents) => ({ ...p, weights: p.weights.map((w) => ({ ...w, contentHash: Buffer.from(w.contentHash).toString('hex'), data: w.data && Buffer.from(w.data).toString('hex') })) });
    expect(strip({ ...back, weights: back.weights.map(({ crc32: _, ...w }) => w) })).toEqual(strip(contents));
    for (const w of back.weights) {
      expect(w.crc32).toBe(zlib.crc32(w.data!)); // the recorded checksum comes back
      expect(w.data!.buffer).toBe(bytes.buffer);
      expect((w.data!.byteOffset - bytes.byteOffset) % 64).toBe(0);
    }
  });

  it('a stripped plan holds no data for its stripped weights and is much smaller', async () => {
    const full = writePlan(await convbnPlan([BuilderFlag.REFIT_IDENTICAL]));
    const strippedContents = await convbnPlan([BuilderFlag.STRIP_PLAN]);
    const stripped = writePlan(strippedContents);
    const strippedBytes = strippedContents.weights.filter((w) => w.stripped).reduce((s, w) => s + w.count * 4, 0);
    expect(strippedBytes).toBeGreaterThan(6000);
    expect(stripped.byteLength).toBeLessThan(full.byteLength - strippedBytes * 0.9);
    expect(readPlan(stripped).weights.filter((w) => w.stripped).every((w) => w.data === null)).toBe(true);
  });

  it('refuses every truncation and every single-byte change of a small plan', async () => {
    const bytes = writePlan(await convbnPlan([BuilderFlag.STRIP_PLAN]));
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      expect(() => readPlan(bytes.subarray(0, n))).toThrow(InvalidPlanError);
      refused++;
    }
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i] = damaged[i]! ^ 0x5a;
      expect(() => readPlan(damaged), `byte ${i}`).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_PLAN }));
      refused++;
    }
    expect(refused).toBe(2 * bytes.length);
  });

  it('readPlanFile verifies while reading: same result as readPlan; truncations, flips in data and FIFOs refused', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPlanFile, createMockBackend } = await import('@trt-refit/mock-backend');
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-planfile-'));
    const bytes = writePlan(await convbnPlan([BuilderFlag.REFIT]));
    const path = join(dir, 'p.plan');
    writeFileSync(path, bytes);
    const fromFile = await readPlanFile(path);
    const fromBytes = readPlan(bytes);
    expect(fromFile.weights.map((w) => [w.name, w.data && Buffer.from(w.data).toString('hex')])).toEqual(fromBytes.weights.map((w) => [w.name, w.data && Buffer.from(w.data).toString('hex')]));
    expect({ ...fromFile, weights: [] }).toEqual({ ...fromBytes, weights: [] });
    // every 97th byte flipped, and truncations: refused as readPlan refuses them
    for (let i = 0; i < bytes.length; i += 97) {
      const damaged = bytes.slice();
      damaged[i] = damaged[i]! ^ 0x5a;
      writeFileSync(path, damaged);
      await expect(readPlanFile(path), `byte ${i}`).rejects.toThrow(InvalidPlanError);
    }
    for (const n of [0, 10, bytes.length >> 1, bytes.length - 1]) {
      writeFileSync(path, bytes.subarray(0, n));
      await expect(readPlanFile(path)).rejects.toThrow(InvalidPlanError);
    }
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(readPlanFile(fifo)).rejects.toThrow(/a FIFO/);
    await expect(readPlanFile(join(dir, 'absent.plan'))).rejects.toThrow(InvalidPlanError);
    writeFileSync(path, bytes);
    const runtime = createMockBackend().createRuntime() as unknown as { deserializeCudaEngineFromFile(p: string): Promise<{ isRefittable(): boolean }> };
    expect((await runtime.deserializeCudaEngineFromFile(path)).isRefittable()).toBe(true);
  });

  it('refuses things that are not plans', () => {
    expect(() => readPlan(new Uint8Array(100))).toThrow(/identifier TRTM missing/);
    expect(() => readPlan(new Uint8Array(3))).toThrow(/too short/);
  });
});
