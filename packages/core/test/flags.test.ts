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
