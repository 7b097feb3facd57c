import { UnsupportedFeatureError, InvalidArgumentError } from './errors.js';

/** A TensorRT version as `major.minor` (patch and build are not needed for capability gates). */
export interface TensorRtVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** The newest TensorRT version trt-refit knows the API of; the mock emulates it by default. */
export const NEWEST_KNOWN_TENSORRT = '10.16';

/** Oldest version trt-refit emulates or loads (the first with weight stripping and `getWeightsPrototype`). */
export const OLDEST_SUPPORTED_TENSORRT = '10.0';

/**
 * Parses `"10.14"`, `"10.14.1"` or `"11.1.0.106"`.
 * @throws InvalidArgumentError when the string is not a version.
 */
export function parseTensorRtVersion(version: string | TensorRtVersion): TensorRtVersion {
  if (typeof version !== 'string') return version;
  const m = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,4}))?(?:\.\d+)?$/.exec(version.trim());
  if (!m) {
    throw new InvalidArgumentError(`tensorrtVersion must look like "10.14" or "11.1.0", received ${JSON.stringify(version)}`);
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** `a < b` → negative, equal → 0, `a > b` → positive. */
export function compareTensorRtVersions(a: string | TensorRtVersion, b: string | TensorRtVersion): number {
  const x = parseTensorRtVersion(a);
  const y = parseTensorRtVersion(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/** `"10.14"` style text of a version. */
export function formatTensorRtVersion(v: TensorRtVersion): string {
  return v.patch ? `${v.major}.${v.minor}.${v.patch}` : `${v.major}.${v.minor}`;
}

/**
 * The TensorRT version that introduced each flag and API this project models (reference/tensorrt-refit-api.md §5),
 * and, where it applies, the version that removed it.
 */
export const FEATURES = {
  'BuilderFlag.REFIT': { since: '8.6' },
  'BuilderFlag.VERSION_COMPATIBLE': { since: '8.6' },
  'BuilderFlag.EXCLUDE_LEAN_RUNTIME': { since: '8.6' },
  'BuilderFlag.STRIP_PLAN': { since: '10.0' },
  'BuilderFlag.REFIT_IDENTICAL': { since: '10.0' },
  'BuilderFlag.WEIGHT_STREAMING': { since: '10.0' },
  'BuilderFlag.REFIT_INDIVIDUAL': { since: '10.2' },
  'SerializationFlag.EXCLUDE_WEIGHTS': { since: '9.0' },
  'SerializationFlag.EXCLUDE_LEAN_RUNTIME': { since: '9.0' },
  'SerializationFlag.INCLUDE_REFIT': { since: '10.14' },
  'INetworkDefinition.setWeightsName': { since: '8.6' },
  'INetworkDefinition.markWeightsRefittable': { since: '10.2' },
  'INetworkDefinition.unmarkWeightsRefittable': { since: '10.2' },
  'INetworkDefinition.areWeightsMarkedRefittable': { since: '10.2' },
  'IRefitter.setNamedWeights': { since: '8.6' },
  'IRefitter.setNamedWeightsWithLocation': { since: '9.0' },
  'IRefitter.getNamedWeights': { since: '9.0' },
  'IRefitter.getWeightsLocation': { since: '9.0' },
  'IRefitter.unsetNamedWeights': { since: '9.0' },
  'IRefitter.getWeightsPrototype': { since: '10.0' },
  'IRefitter.refitCudaEngineAsync': { since: '9.0' },
  'IRefitter.setWeightsValidation': { since: '9.0' },
  'IRefitter.setDynamicRange': { since: '8.6', removed: '11.0' },
  'ICudaEngine.createSerializationConfig': { since: '9.0' },
  'ICudaEngine.getEngineStat': { since: '10.14' },
  'IRuntime.loadRuntime': { since: '8.6' },
  'IRuntime.setEngineHostCodeAllowed': { since: '8.6' },
  'IParserRefitter.refitFromFile': { since: '10.0' },
  'IParserRefitter.refitFromBytes': { since: '10.0' },
  'IParserRefitter.loadModelProto': { since: '10.13' },
  'IParserRefitter.loadInitializer': { since: '10.13' },
  'IParserRefitter.refitModelProto': { since: '10.13' },
  // NvOnnxParser.h: IRefitterObserver / RefitRecord, attached to a parser refitter (11.2 release notes: "Added
  // IRefitterObserver class"; 11.3 C++ API members page) and to a parser from 11.4 (11.4 release notes).
  'IParserRefitter.setRefitObserver': { since: '11.2' },
  'IParser.setRefitObserver': { since: '11.4' },
} as const satisfies Record<string, { since: string; removed?: string }>;

/** Name of a gated flag or API, e.g. `"BuilderFlag.REFIT_INDIVIDUAL"` or `"IParserRefitter.loadModelProto"`. */
export type Feature = keyof typeof FEATURES;

/** True when `feature` exists in TensorRT `version`. */
export function hasFeature(version: string | TensorRtVersion, feature: Feature): boolean {
  const f: { since: string; removed?: string } = FEATURES[feature];
  if (compareTensorRtVersions(version, f.since) < 0) return false;
  return f.removed === undefined || compareTensorRtVersions(version, f.removed) < 0;
}

/**
 * Throws {@link UnsupportedFeatureError} when `feature` does not exist in `version`, as calling it on that
 * TensorRT would fail.
 */
export function requireFeature(version: string | TensorRtVersion, feature: Feature): void {
  if (!hasFeature(version, feature)) {
    const f: { since: string; removed?: string } = FEATURES[feature];
    const v = typeof version === 'string' ? version : formatTensorRtVersion(version);
    const why =
      f.removed !== undefined && compareTensorRtVersions(version, f.removed) >= 0
        ? `was removed in TensorRT ${f.removed}`
        : `needs TensorRT ${f.since} or newer`;
    throw new UnsupportedFeatureError(`${feature} ${why}; this backend is TensorRT ${v}`, feature, v);
  }
}
