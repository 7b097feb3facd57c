import { describe, expect, it } from 'vitest';
import {
  BuilderFlag,
  SerializationFlag,
  InvalidFlagsError,
  TrtRefitErrorCode,
  checkBuilderFlags,
  checkSerializationFlags,
  defaultSerializationFlags,
  resolveBuildMode,
  serializedProperties,
  type BuildMode,
} from '@trt-refit/core';

const ALL = Object.values(BuilderFlag);
const subsets: BuilderFlag[][] = Array.from({ length: 1 << ALL.length }, (_, mask) => ALL.filter((_, i) => mask & (1 << i)));

/** The rules of DESIGN.md, written independently of flags.ts. */
function oracle(flags: BuilderFlag[]): { refused: boolean; mode?: Omit<BuildMode, never> } {
  const f = new Set(flags);
  if (f.has('REFIT_INDIVIDUAL') && (f.has('REFIT') || f.has('REFIT_IDENTICAL'))) return { refused: true };
  let refit: BuildMode['refit'] = 'none';
  if (f.has('REFIT_IDENTICAL') || f.has('STRIP_PLAN')) refit = 'identical';
  if (f.has('REFIT_INDIVIDUAL')) refit = 'individual';
  if (f.has('REFIT')) refit = 'all';
  const strip: BuildMode['strip'] = !f.has('STRIP_PLAN') ? 'none' : ({ all: 'all', individual: 'marked', identical: 'identical', none: 'identical' } as const)[refit];
  return {
    refused: false,
    mode: {
      refit,
      strip,
      versionCompatible: f.has('VERSION_COMPATIBLE'),
      excludeLeanRuntime: f.has('VERSION_COMPATIBLE') && f.has('EXCLUDE_LEAN_RUNTIME'),
      weightStreaming: f.has('WEIGHT_STREAMING'),
    },
  };
}

describe('builder flag rules over every one of the 128 flag combinations (TensorRT 10.16)', () => {
  it.each(subsets.map((s) => [s.join('+') || '(none)', s] as const))('%s', (_label, flags) => {
    const expected = oracle(flags);
    if (expected.refused) {
      let error: unknown;
      try {
        resolveBuildMode(flags, '10.16');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidFlagsError);
      const v = (error as InvalidFlagsError).violations;
      expect(v.every((x) => x.rule === 'refit-individual-exclusive')).toBe(true);
      expect(v.length).toBe(Number(flags.includes('REFIT')) + Number(flags.includes('REFIT_IDENTICAL')));
    } else {
      expect(resolveBuildMode(flags, '10.16')).toEqual(expected.mode);
    }
  });
});

describe('flag rules in detail', () => {
  it('reports every violation at once, each with its rule', () => {
    const { violations } = checkBuilderFlags([BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.REFIT, BuilderFlag.REFIT_IDENTICAL, 'NOPE' as BuilderFlag], '10.16');
    expect(violations.map((v) => v.rule).sort()).toEqual(['refit-individual-exclusive', 'refit-individual-exclusive', 'unknown-flag']);
  });
  it('the error message names the rule and the flags', () => {
    expect(() => resolveBuildMode([BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.REFIT], '10.16')).toThrow(/\[refit-individual-exclusive\] REFIT_INDIVIDUAL cannot be used together with REFIT/);
    try {
      resolveBuildMode([BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.REFIT], '10.16');
    } catch (e) {
      expect((e as InvalidFlagsError).code).toBe(TrtRefitErrorCode.INVALID_FLAGS);
    }
  });
  it('REFIT_INDIVIDUAL is refused before TensorRT 10.2 with the version named', () => {
    const { violations } = checkBuilderFlags([BuilderFlag.REFIT_INDIVIDUAL], '10.1');
    expect(violations).toEqual([{ rule: 'flag-version', message: expect.stringMatching(/REFIT_INDIVIDUAL is not available in TensorRT 10\.1; it needs TensorRT 10\.2/) }]);
    expect(checkBuilderFlags([BuilderFlag.REFIT_INDIVIDUAL], '10.2').violations).toEqual([]);
  });
  it('STRIP_PLAN and REFIT_IDENTICAL are refused on 9.3', () => {
    expect(checkBuilderFlags([BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT_IDENTICAL], '9.3').violations.map((v) => v.rule)).toEqual(['flag-version', 'flag-version']);
  });
  it('warns that EXCLUDE_LEAN_RUNTIME is ignored without VERSION_COMPATIBLE', () => {
    expect(checkBuilderFlags([BuilderFlag.EXCLUDE_LEAN_RUNTIME], '10.16').warnings.join()).toMatch(/ignored without VERSION_COMPATIBLE/);
    expect(checkBuilderFlags([BuilderFlag.EXCLUDE_LEAN_RUNTIME, BuilderFlag.VERSION_COMPATIBLE], '10.16').warnings).toEqual([]);
  });
  it('warns that REFIT wins over REFIT_IDENTICAL', () => {
    expect(checkBuilderFlags([BuilderFlag.REFIT, BuilderFlag.REFIT_IDENTICAL], '10.16').warnings.join()).toMatch(/REFIT wins/);
  });
});

describe('serialization flags', () => {
  const mode = (flags: BuilderFlag[]) => resolveBuildMode(flags, '10.16');
  it('EXCLUDE_WEIGHTS needs a refittable build', () => {
    expect(checkSerializationFlags([SerializationFlag.EXCLUDE_WEIGHTS], { refittable: false }, '10.16').violations.map((v) => v.rule)).toEqual(['exclude-weights-needs-refit']);
    expect(checkSerializationFlags([SerializationFlag.EXCLUDE_WEIGHTS], { refittable: true }, '10.16').violations).toEqual([]);
  });
  it('INCLUDE_REFIT needs TensorRT 10.14', () => {
    expect(checkSerializationFlags([SerializationFlag.INCLUDE_REFIT], { refittable: true }, '10.13').violations.map((v) => v.rule)).toEqual(['flag-version']);
    expect(checkSerializationFlags([SerializationFlag.INCLUDE_REFIT], { refittable: true }, '10.14').violations).toEqual([]);
  });
  it('unknown serialization flags are refused', () => {
    expect(checkSerializationFlags(['EXCLUDE_ALL' as SerializationFlag], { refittable: true }, '10.16').violations[0]?.rule).toBe('unknown-flag');
  });
  it('a stripped engine excludes weights by default; others do not', () => {
    expect(defaultSerializationFlags(mode([BuilderFlag.STRIP_PLAN]))).toEqual([SerializationFlag.EXCLUDE_WEIGHTS]);
    expect(defaultSerializationFlags(mode([BuilderFlag.REFIT]))).toEqual([]);
    expect(defaultSerializationFlags(mode([BuilderFlag.VERSION_COMPATIBLE, BuilderFlag.EXCLUDE_LEAN_RUNTIME]))).toEqual([SerializationFlag.EXCLUDE_LEAN_RUNTIME]);
  });
  it.each([
    ['stripped, weights excluded', [BuilderFlag.STRIP_PLAN], [SerializationFlag.EXCLUDE_WEIGHTS], { weightsIncluded: false, refittable: true }],
    ['stripped, full plan', [BuilderFlag.STRIP_PLAN], [], { weightsIncluded: true, refittable: false }],
    ['stripped, full plan with INCLUDE_REFIT', [BuilderFlag.STRIP_PLAN], [SerializationFlag.INCLUDE_REFIT], { weightsIncluded: true, refittable: true }],
    ['REFIT, full plan', [BuilderFlag.REFIT], [], { weightsIncluded: true, refittable: true }],
    ['not refittable', [], [], { weightsIncluded: true, refittable: false }],
    ['not refittable ignores EXCLUDE_WEIGHTS', [], [SerializationFlag.EXCLUDE_WEIGHTS], { weightsIncluded: true, refittable: false }],
  ] as const)('%s', (_l, build, ser, expected) => {
    expect(serializedProperties(mode([...build]), ser)).toMatchObject(expected);
  });
  it('a version-compatible plan includes the lean runtime unless excluded', () => {
    expect(serializedProperties(mode([BuilderFlag.VERSION_COMPATIBLE]), []).leanRuntimeIncluded).toBe(true);
    expect(serializedProperties(mode([BuilderFlag.VERSION_COMPATIBLE]), [SerializationFlag.EXCLUDE_LEAN_RUNTIME]).leanRuntimeIncluded).toBe(false);
    expect(serializedProperties(mode([BuilderFlag.VERSION_COMPATIBLE, BuilderFlag.EXCLUDE_LEAN_RUNTIME]), []).leanRuntimeIncluded).toBe(false);
    expect(serializedProperties(mode([]), []).leanRuntimeIncluded).toBe(false);
  });
});

/** When each builder flag appeared (reference §3.1 and §5), written apart from version.ts. */
const BUILDER_SINCE: Record<BuilderFlag, [number, number]> = {
  REFIT: [8, 6],
  VERSION_COMPATIBLE: [8, 6],
  EXCLUDE_LEAN_RUNTIME: [8, 6],
  STRIP_PLAN: [10, 0],
  REFIT_IDENTICAL: [10, 0],
  WEIGHT_STREAMING: [10, 0],
  REFIT_INDIVIDUAL: [10, 2],
};
const before = (v: string, [maj, min]: [number, number]) => {
  const [a, b] = v.split('.').map(Number) as [number, number];
  return a < maj || (a === maj && b < min);
};

describe('builder flag version gates over every combination and version', () => {
  it.each(['8.6', '9.3', '10.0', '10.1', '10.2', '10.13', '11.1'])('TensorRT %s: all 128 combinations report the expected rules', (version) => {
    for (const flags of subsets) {
      const expected = flags.filter((f) => before(version, BUILDER_SINCE[f])).map(() => 'flag-version');
      if (flags.includes('REFIT_INDIVIDUAL')) {
        for (const other of ['REFIT', 'REFIT_IDENTICAL'] as const) if (flags.includes(other)) expected.push('refit-individual-exclusive');
      }
      const { violations } = checkBuilderFlags(flags, version);
      expect(violations.map((v) => v.rule).sort(), `${flags.join('+')} on ${version}`).toEqual(expected.sort());
      for (const v of violations.filter((x) => x.rule === 'flag-version')) expect(v.message).toContain(`TensorRT ${version}`);
      if (expected.length) expect(() => resolveBuildMode(flags, version)).toThrow(InvalidFlagsError);
      else expect(resolveBuildMode(flags, version)).toEqual(oracle(flags).mode);
    }
  });
  it('each flag-version violation names its flag', () => {
    const { violations } = checkBuilderFlags([BuilderFlag.STRIP_PLAN, BuilderFlag.WEIGHT_STREAMING], '9.3');
    expect(violations.map((v) => v.message.split(' ')[0])).toEqual(['BuilderFlag.STRIP_PLAN', 'BuilderFlag.WEIGHT_STREAMING']);
  });
  it('a version that is not a version is a typed error, not a silent pass', () => {
    expect(() => checkBuilderFlags([BuilderFlag.REFIT], 'latest')).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT }));
  });
});

const SER = Object.values(SerializationFlag);
const serSubsets: SerializationFlag[][] = Array.from({ length: 1 << SER.length }, (_, mask) => SER.filter((_, i) => mask & (1 << i)));

/** reference §3.3, case by case, written apart from flags.ts. */
function serializationOracle(build: BuilderFlag[], ser: SerializationFlag[], version: string) {
  const b = new Set(build);
  const s = new Set(ser);
  const refittable = b.has('REFIT') || b.has('REFIT_IDENTICAL') || b.has('REFIT_INDIVIDUAL') || b.has('STRIP_PLAN');
  const stripped = b.has('STRIP_PLAN');
  const rules: string[] = [];
  if (s.has('EXCLUDE_WEIGHTS') && !refittable) rules.push('exclude-weights-needs-refit');
  if (s.has('INCLUDE_REFIT') && before(version, [10, 14])) rules.push('flag-version');
  let props: { weightsIncluded: boolean; refittable: boolean; leanRuntimeIncluded: boolean };
  const lean = b.has('VERSION_COMPATIBLE') && !b.has('EXCLUDE_LEAN_RUNTIME') && !s.has('EXCLUDE_LEAN_RUNTIME');
  if (!refittable) props = { weightsIncluded: true, refittable: false, leanRuntimeIncluded: lean };
  else if (s.has('EXCLUDE_WEIGHTS')) props = { weightsIncluded: false, refittable: true, leanRuntimeIncluded: lean };
  else if (!stripped) props = { weightsIncluded: true, refittable: true, leanRuntimeIncluded: lean };
  else props = { weightsIncluded: true, refittable: s.has('INCLUDE_REFIT'), leanRuntimeIncluded: lean };
  const defaults: SerializationFlag[] = [];
  if (stripped) defaults.push('EXCLUDE_WEIGHTS');
  if (b.has('VERSION_COMPATIBLE') && b.has('EXCLUDE_LEAN_RUNTIME')) defaults.push('EXCLUDE_LEAN_RUNTIME');
  return { rules, props, defaults };
}

describe('serialization flags over every valid build and all 8 flag combinations', () => {
  const valid = subsets.filter((f) => !oracle(f).refused);
  it.each(['10.13', '10.16'])('TensorRT %s', (version) => {
    for (const build of valid) {
      const mode = resolveBuildMode(build, version);
      const engine = { refittable: mode.refit !== 'none' };
      for (const ser of serSubsets) {
        const expected = serializationOracle(build, ser, version);
        const label = `${build.join('+') || '(none)'} / ${ser.join('+') || '(none)'} on ${version}`;
        expect(checkSerializationFlags(ser, engine, version).violations.map((v) => v.rule).sort(), label).toEqual(expected.rules.sort());
        expect(serializedProperties(mode, ser), label).toEqual(expected.props);
      }
      expect(defaultSerializationFlags(mode)).toEqual(serializationOracle(build, [], version).defaults);
    }
  });
  it('the default flags of a stripped engine give a weightless plan that stays refittable', () => {
    for (const build of [[BuilderFlag.STRIP_PLAN], [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT], [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT_INDIVIDUAL]]) {
      const mode = resolveBuildMode(build, '10.16');
      expect(serializedProperties(mode, defaultSerializationFlags(mode))).toMatchObject({ weightsIncluded: false, refittable: true });
    }
  });
  it('INCLUDE_REFIT on an engine that is not refittable is a warning, not a violation', () => {
    const r = checkSerializationFlags([SerializationFlag.INCLUDE_REFIT], { refittable: false }, '10.16');
    expect(r.violations).toEqual([]);
    expect(r.warnings.join()).toMatch(/no effect/);
  });
});
