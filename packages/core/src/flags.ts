import { BuilderFlag, SerializationFlag } from './enums.js';
import { InvalidFlagsError, type FlagViolation } from './errors.js';
import { FEATURES, hasFeature, type Feature } from './version.js';

/** What a set of builder flags means for the engine: which weights are refittable and which are stripped. */
export interface BuildMode {
  /** none: not refittable; all: REFIT; identical: REFIT_IDENTICAL (or implied by STRIP_PLAN); individual: marked weights. */
  readonly refit: 'none' | 'all' | 'identical' | 'individual';
  /** Which refittable weights the plan leaves out. */
  readonly strip: 'none' | 'all' | 'identical' | 'marked';
  readonly versionCompatible: boolean;
  /** True only with VERSION_COMPATIBLE (TensorRT ignores EXCLUDE_LEAN_RUNTIME otherwise). */
  readonly excludeLeanRuntime: boolean;
  readonly weightStreaming: boolean;
}

/** Violations (the build is refused) and warnings (logged; the build goes on) of a set of flags. */
export interface FlagCheck {
  readonly violations: FlagViolation[];
  readonly warnings: string[];
}

const BUILDER_FLAGS = new Set<string>(Object.values(BuilderFlag));
const SERIALIZATION_FLAGS = new Set<string>(Object.values(SerializationFlag));

function versionViolations(flags: Iterable<string>, kind: 'BuilderFlag' | 'SerializationFlag', known: Set<string>, version: string): FlagViolation[] {
  const out: FlagViolation[] = [];
  for (const f of flags) {
    if (!known.has(f)) {
      out.push({ rule: 'unknown-flag', message: `${JSON.stringify(f)} is not a ${kind}; known: ${[...known].join(', ')}` });
      continue;
    }
    const feature = `${kind}.${f}` as Feature;
    if (!hasFeature(version, feature)) {
      out.push({ rule: 'flag-version', message: `${kind}.${f} is not available in TensorRT ${version}; it needs TensorRT ${featureSince(feature)} or newer` });
    }
  }
  return out;
}

function featureSince(feature: Feature): string {
  return FEATURES[feature].since;
}

/**
 * Checks builder flags against TensorRT's rules (reference §3.1): REFIT_INDIVIDUAL cannot be combined with REFIT or
 * REFIT_IDENTICAL; every flag must exist in `tensorrtVersion`; unknown names are refused. Reports everything at once.
 *
 * @example
 * ```ts
 * checkBuilderFlags([BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.REFIT], '10.16').violations[0].rule; // 'refit-individual-exclusive'
 * ```
 */
export function checkBuilderFlags(flags: Iterable<BuilderFlag>, tensorrtVersion: string): FlagCheck {
  const set = new Set<string>(flags);
  const violations = versionViolations(set, 'BuilderFlag', BUILDER_FLAGS, tensorrtVersion);
  const warnings: string[] = [];
  if (set.has(BuilderFlag.REFIT_INDIVIDUAL)) {
    for (const other of [BuilderFlag.REFIT, BuilderFlag.REFIT_IDENTICAL]) {
      if (set.has(other)) {
        violations.push({
          rule: 'refit-individual-exclusive',
          message: `REFIT_INDIVIDUAL cannot be used together with ${other}: use REFIT_INDIVIDUAL with markWeightsRefittable, or ${other} alone`,
        });
      }
    }
  }
  if (set.has(BuilderFlag.EXCLUDE_LEAN_RUNTIME) && !set.has(BuilderFlag.VERSION_COMPATIBLE)) {
    warnings.push('EXCLUDE_LEAN_RUNTIME is ignored without VERSION_COMPATIBLE');
  }
  if (set.has(BuilderFlag.REFIT) && set.has(BuilderFlag.REFIT_IDENTICAL)) {
    warnings.push('REFIT and REFIT_IDENTICAL are both set: REFIT wins (every weight refittable, refit weights may differ)');
  }
  return { violations, warnings };
}

/**
 * What `flags` build: throws {@link InvalidFlagsError} listing every violated rule, otherwise the {@link BuildMode}.
 * STRIP_PLAN alone implies REFIT_IDENTICAL; STRIP_PLAN + REFIT strips every weight; STRIP_PLAN + REFIT_INDIVIDUAL
 * strips the marked ones.
 */
export function resolveBuildMode(flags: Iterable<BuilderFlag>, tensorrtVersion: string): BuildMode {
  const list = [...flags];
  const { violations } = checkBuilderFlags(list, tensorrtVersion);
  if (violations.length) throw new InvalidFlagsError(violations);
  const has = (f: BuilderFlag) => list.includes(f);
  const strip = has(BuilderFlag.STRIP_PLAN);
  const refit: BuildMode['refit'] = has(BuilderFlag.REFIT)
    ? 'all'
    : has(BuilderFlag.REFIT_INDIVIDUAL)
      ? 'individual'
      : has(BuilderFlag.REFIT_IDENTICAL) || strip
        ? 'identical'
        : 'none';
  const stripMode: BuildMode['strip'] = !strip ? 'none' : refit === 'all' ? 'all' : refit === 'individual' ? 'marked' : 'identical';
  const vc = has(BuilderFlag.VERSION_COMPATIBLE);
  return { refit, strip: stripMode, versionCompatible: vc, excludeLeanRuntime: vc && has(BuilderFlag.EXCLUDE_LEAN_RUNTIME), weightStreaming: has(BuilderFlag.WEIGHT_STREAMING) };
}

/**
 * Checks serialization flags for an engine: EXCLUDE_WEIGHTS needs a refittable build; INCLUDE_REFIT needs 10.14.
 */
export function checkSerializationFlags(flags: Iterable<SerializationFlag>, engine: { refittable: boolean }, tensorrtVersion: string): FlagCheck {
  const set = new Set<string>(flags);
  const violations = versionViolations(set, 'SerializationFlag', SERIALIZATION_FLAGS, tensorrtVersion);
  const warnings: string[] = [];
  if (set.has(SerializationFlag.EXCLUDE_WEIGHTS) && !engine.refittable) {
    violations.push({
      rule: 'exclude-weights-needs-refit',
      message: 'EXCLUDE_WEIGHTS requires an engine built with REFIT, REFIT_IDENTICAL or REFIT_INDIVIDUAL',
    });
  }
  if (set.has(SerializationFlag.INCLUDE_REFIT) && !engine.refittable) {
    warnings.push('INCLUDE_REFIT has no effect on an engine that is not refittable');
  }
  return { violations, warnings };
}

/**
 * Flags of `createSerializationConfig()`: EXCLUDE_WEIGHTS for a stripped engine (TensorRT does not document the
 * default; Torch-TensorRT and TensorRT-LLM clear it explicitly, so a stripped engine evidently carries it),
 * EXCLUDE_LEAN_RUNTIME when the build excluded it.
 */
export function defaultSerializationFlags(mode: BuildMode): SerializationFlag[] {
  const out: SerializationFlag[] = [];
  if (mode.strip !== 'none') out.push(SerializationFlag.EXCLUDE_WEIGHTS);
  if (mode.excludeLeanRuntime) out.push(SerializationFlag.EXCLUDE_LEAN_RUNTIME);
  return out;
}

/**
 * What a plan serialized with `flags` from an engine built as `mode` is (reference §3.3): with EXCLUDE_WEIGHTS it
 * holds no refittable data and stays refittable; a stripped engine serialized with its weights is a full plan that
 * is refittable only with INCLUDE_REFIT; an engine that was not stripped keeps its refittability.
 */
export function serializedProperties(
  mode: BuildMode,
  flags: Iterable<SerializationFlag>,
): { weightsIncluded: boolean; refittable: boolean; leanRuntimeIncluded: boolean } {
  const set = new Set(flags);
  const refittableBuild = mode.refit !== 'none';
  const exclude = set.has(SerializationFlag.EXCLUDE_WEIGHTS) && refittableBuild;
  const refittable = !refittableBuild ? false : exclude || mode.strip === 'none' || set.has(SerializationFlag.INCLUDE_REFIT);
  return {
    weightsIncluded: !exclude,
    refittable,
    leanRuntimeIncluded: mode.versionCompatible && !set.has(SerializationFlag.EXCLUDE_LEAN_RUNTIME) && !mode.excludeLeanRuntime,
  };
}
