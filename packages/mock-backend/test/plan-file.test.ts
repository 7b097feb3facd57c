import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('readPlanFile of a plan larger than its reads in flight (40 MiB): same bytes; a damaged weight early or late refused, no read left running', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPlanFile, writePlanFile } = await import('@trt-refit/mock-backend');
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-planfile-big-'));
    const small = await convbnPlan([BuilderFlag.REFIT]);
    const big = (n: number, seed: number) => {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = ((i * 2654435761 + seed) >>> 0) / 2 ** 32;
      return new Uint8Array(v.buffer);
    };
    // the first two weights grown to 24 MiB and 16 MiB: the data spans five 8 MiB reads, four in flight at once
    const sizes = [6 << 20, 4 << 20];
    const plan: PlanContents = {
      ...small,
      weights: small.weights.map((w, i) => (i < sizes.length ? { ...w, dims: [sizes[i]!], count: sizes[i]!, dtype: 'FLOAT', data: big(sizes[i]!, i), crc32: undefined } : w)),
    };
    const path = join(dir, 'big.plan');
    const size = await writePlanFile(path, plan);
    expect(size).toBeGreaterThan(40 << 20);
    const bytes = readFileSync(path);
    expect(Buffer.compare(bytes, Buffer.from(writePlan(plan)))).toBe(0);
    const read = await readPlanFile(path);
    expect(read.weights.map((w) => w.data && createHash('sha256').update(w.data).digest('hex'))).toEqual(plan.weights.map((w) => w.data && createHash('sha256').update(w.data).digest('hex')));
    // the views are of one buffer of the file's size: a view's offset is its file offset
    const [w0, w1] = [read.weights[0]!, read.weights[1]!];
    for (const [w, at] of [[w0, w0.data!.byteOffset + 1000], [w1, w1.data!.byteOffset + w1.data!.byteLength - 1000]] as const) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0x5a;
      writeFileSync(path, damaged);
      await expect(readPlanFile(path), `byte ${at}`).rejects.toThrow(`the data of weight ${w.name} does not match its checksum`);
    }
  });

  it('refuses things that are not plans', () => {
    expect(() => readPlan(new Uint8Array(100))).toThrow(/identifier TRTM missing/);
    expect(() => readPlan(new Uint8Array(3))).toThrow(/too short/);
  });
});

describe('plan format 2: typed enums, fusion groups stored once', () => {
  // A plan assembled by hand from the schema's generated code, with a valid trailer and checksum.
  async function forged(formatVersion: number, dtype: number): Promise<Uint8Array> {
    const flatbuffers = await import('flatbuffers');
    const { Header } = await import('../src/generated/trt-refit/plan/header.js');
    const { Plan } = await import('../src/generated/trt-refit/plan/plan.js');
    const { Weight } = await import('../src/generated/trt-refit/plan/weight.js');
    const { crc32 } = await import('node:zlib');
    const b = new flatbuffers.Builder(256);
    const name = b.createString('w');
    Weight.startWeight(b);
    Weight.addName(b, name);
    Weight.addDtype(b, dtype);
    Weight.addFusionGroup(b, -1);
    const w = Weight.endWeight(b);
    const weights = Plan.createWeightsVector(b, [w]);
    const header = Header.createHeader(b, formatVersion, b.createString('10.16'), Header.createBuilderFlagsVector(b, []), Header.createSerializationFlagsVector(b, []), false, false, false, false, 0, 0n);
    Plan.startPlan(b);
    Plan.addHeader(b, header);
    Plan.addWeights(b, weights);
    b.finish(Plan.endPlan(b), 'TRTM');
    const fb = b.asUint8Array();
    const pad = Math.ceil(fb.length / 64) * 64;
    const out = new Uint8Array(pad + 16);
    out.set(fb);
    out.set(Buffer.from('TRTMEND\0', 'latin1'), pad);
    new DataView(out.buffer).setUint32(pad + 8, fb.length, true);
    new DataView(out.buffer).setUint32(pad + 12, crc32(fb), true);
    return out;
  }
  it('reads its own enums back; a plan of format 1 gets a clear error; an enum value out of range is refused', async () => {
    expect(readPlan(await forged(2, 0)).weights[0]).toMatchObject({ name: 'w', dtype: 'FLOAT' });
    expect(() => readPlan(forgedSync.v1!)).toThrow(/format 1 .*build the plan again/);
    expect(() => readPlan(forgedSync.bad!)).toThrow(/weight w: dtype 200 is out of range/);
  });
  const forgedSync: { v1?: Uint8Array; bad?: Uint8Array } = {};
  beforeAll(async () => {
    forgedSync.v1 = await forged(1, 0);
    forgedSync.bad = await forged(2, 200);
  });
});
