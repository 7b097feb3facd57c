import { NEWEST_KNOWN_TENSORRT, compareTensorRtVersions, formatTensorRtVersion, parseTensorRtVersion } from './version.js';

/**
 * The onnx-tensorrt commit TensorRT's `parsers/onnx` submodule points at in each release (`git ls-tree <tag>
 * parsers/onnx` in NVIDIA/TensorRT). Every rule below cites the file it was read from at one of these commits.
 */
export const ONNX_TENSORRT_COMMITS: Readonly<Record<string, string>> = {
  '10.0': '973d68d06f671998ddcc0c504b9a2fdfcfc85a62',
  '10.1': '96e781103cfc4adf4a6bb557e94bac8e693f6f4c',
  '10.11': '745bde22c2fe883968cf18cc9ebdfb2e2985166d',
  '10.12': 'ff761afc76f4a352e88200199e86a375bfbf9928',
  '10.13': '346bdcae450e2724ffc16d7e15710d3bbf76d7ed',
  '10.13.3': '9a9f7883dd7b8cb0a718395bac2075fab6f97da8',
  '10.14': 'c72727708d4ed8a379c04c4ea235c157ce9c3870',
  '10.15': 'fa5aa9f61e7781d2ca8f5351d42c1f19525a6124',
  '10.16': '6bde6596eca84abf9afe9b4d21c18c32800fd3ad',
  '11.0': '5ab48c5c436a5686b8574c4a372cbca224273b5a',
  '11.1': '7c51a63a719180eb5160c874c111746f3fb46a6b',
};

/** Where a rule was read: a file of onnx/onnx-tensorrt or NVIDIA/TensorRT at a commit, or a documentation page. */
export interface RuleSource {
  readonly repo?: 'onnx/onnx-tensorrt' | 'NVIDIA/TensorRT';
  readonly file?: string;
  readonly commit?: string;
  readonly url?: string;
  /** The function or passage, quoted briefly. */
  readonly where: string;
}

/** One version range of a rule: from `since` (inclusive) until the next era's `since`. */
export interface RuleEra<T> {
  readonly since: string;
  readonly value: T;
  readonly sources: readonly RuleSource[];
  /** Set when no source was read for part of the range: what the mock assumes there, and why. */
  readonly assumption?: string;
}

/** The behaviours of TensorRT's ONNX parser and parser refitter that change between versions. */
export interface OnnxParserRules {
  /** The TensorRT version these rules are for (`"10.13"`, `"11.2"`). */
  readonly tensorrtVersion: string;
  /**
   * Base of the names `generateUniqueName` gives refittable temporary weights (folded BatchNormalization scale and
   * shift; ConstantOfShape values where {@link constantOfShapeWeights}): the base, then `<base>_<n>` with one
   * counter from 0, in a set of generated names only.
   */
  readonly refittableTempBase: 'tmp_batch_norm_weight' | 'tmp_refittable_weight';
  /** Each ConstantOfShape node's value is a refittable weight named from the same set and counter. */
  readonly constantOfShapeWeights: boolean;
  /**
   * Networks are strongly typed: a BatchNormalization whose parameters' types differ from its input's is not
   * folded (element-wise fallback, no generated names).
   */
  readonly stronglyTyped: boolean;
  /** The parser refitter reads UINT8 initializers raw (`UINT8`), where the importer widened them to INT32. */
  readonly refitterUint8: 'INT32' | 'UINT8';
  /** DOUBLE tensors stored as external data are converted to FLOAT, or always fail ("Unexpected size"). */
  readonly externalDouble: 'FLOAT' | 'refuse';
  /** A second model given to one parser refitter fails ("A model was previously parsed!"). */
  readonly oneModelPerParserRefitter: boolean;
  /** `IParserRefitter::setRefitObserver` exists and reports a `RefitRecord` per refittable weight. */
  readonly refitObserver: boolean;
  /** The documented known issue: with `BuilderFlag.REFIT` a GEMM bias may be dropped and treated as zero. */
  readonly refitMayDropGemmBias: boolean;
}

/** The rules of {@link OnnxParserRules} that change between versions (every member but the version itself). */
export type RuleKey = Exclude<keyof OnnxParserRules, 'tensorrtVersion'>;

/** One row of the rule table: an id (used by docs/fidelity.md and the tests), what it says, its eras. */
export interface ParserRule<K extends RuleKey = RuleKey> {
  readonly id: string;
  readonly key: K;
  readonly rule: string;
  readonly eras: readonly RuleEra<OnnxParserRules[K]>[];
}

const OT = 'onnx/onnx-tensorrt' as const;
const at = (file: string, version: keyof typeof ONNX_TENSORRT_COMMITS, where: string): RuleSource => ({ repo: OT, file, commit: ONNX_TENSORRT_COMMITS[version]!, where });

/**
 * The version-indexed rules, each traced to its source. The importer, the parser refitter and the mock read them
 * through {@link onnxParserRules}; docs/fidelity.md lists them by id.
 */
export const PARSER_RULES: readonly ParserRule[] = [
  {
    id: 'P-TEMP-BASE',
    key: 'refittableTempBase',
    rule: 'base name of generated refittable weights',
    eras: [
      {
        since: '10.0',
        value: 'tmp_batch_norm_weight',
        sources: [
          at('WeightsContext.cpp', '10.1', 'createNamedTempWeights: batchNormNode ? "tmp_batch_norm_weight" : "tmp_weight"'),
          at('ModelRefitter.cpp', '10.13', 'batchnormWeightRefitter: createNamedTempWeights(..., mBatchNormWeightNames, mBatchNormWeightSuffixCounter, /*batchNormNode=*/true)'),
        ],
        assumption: 'WeightsContext.cpp is not stored at 10.2-10.13; 10.13 still passes batchNormNode=true with mBatchNormWeightNames, so the 10.1 base is kept',
      },
      {
        since: '10.14',
        value: 'tmp_refittable_weight',
        sources: [
          at('ModelRefitter.cpp', '10.14', 'createNamedTempWeights(..., mTempRefittableWeights, mTempRefittableWeightsSuffixCounter, /*refittable=*/true)'),
          at('WeightsContext.cpp', '10.16', 'createNamedTempWeights: refittable ? "tmp_refittable_weight" : "tmp_weight"'),
        ],
      },
    ],
  },
  {
    id: 'P-CONSTANT-OF-SHAPE',
    key: 'constantOfShapeWeights',
    rule: 'ConstantOfShape values are refittable weights with generated names',
    eras: [
      { since: '10.0', value: false, sources: [at('ModelRefitter.cpp', '10.13', 'refitOnnxNode handles Constant, BatchNormalization, If, Loop, Scan only')] },
      {
        since: '10.14',
        value: true,
        sources: [
          at('ModelRefitter.cpp', '10.14', 'refitOnnxConstantOfShapeNode: createNamedTempWeights(FLOAT, Dims{1, {1}}, ..., /*refittable=*/true) for every node, before reading `value`'),
          at('onnxOpImporters.cpp', '10.16', 'ConstantOfShape: zeroWeights = createNamedTempWeights(FLOAT, {1, {1}}, /*refittable=*/true); value renamed to its name'),
        ],
      },
    ],
  },
  {
    id: 'P-BN-STRONG-TYPING',
    key: 'stronglyTyped',
    rule: 'a BatchNormalization whose parameter types differ from its input type is not folded in a strongly typed network',
    eras: [
      { since: '10.0', value: false, sources: [at('onnxOpImporters.cpp', '10.13', 'BatchNormalization: !allWeightsSameType && ctx->isStronglyTyped() -> batchnormFallback; else fold in FP32')] },
      {
        since: '11.0',
        value: true,
        sources: [at('onnxOpImporters.cpp', '11.0', 'BatchNormalization: same condition; TensorRT 11 networks are strongly typed')],
        assumption: 'trt-refit creates 10.x networks without kSTRONGLY_TYPED (createNetworkV2(0)) and treats every 11.x network as strongly typed',
      },
    ],
  },
  {
    id: 'P-UINT8-REFIT',
    key: 'refitterUint8',
    rule: 'the parser refitter converts UINT8 initializers to INT32, or reads them raw',
    eras: [
      { since: '10.0', value: 'INT32', sources: [at('WeightsContext.cpp', '10.1', 'convertOnnxWeights: "Cast UINT8 weights to INT32." (convertUINT8)')] },
      {
        since: '10.2',
        value: 'UINT8',
        sources: [at('WeightsContext.cpp', '10.16', 'convertOnnxWeights: FLOAT8E4M3FN || UINT8 read raw; UINT8 -> INT32 only in the importer (parseNode)')],
        assumption: 'not stored at 10.2-10.15: the mock takes the stricter newer behaviour there (the refit of a widened UINT8 weight fails on its type)',
      },
    ],
  },
  {
    id: 'P-EXTERNAL-DOUBLE',
    key: 'externalDouble',
    rule: 'a DOUBLE tensor stored as external data',
    eras: [
      { since: '10.0', value: 'FLOAT', sources: [at('WeightsContext.cpp', '10.1', 'convertOnnxWeights (external): convertDouble, nbytes halved, then the size check')] },
      {
        since: '10.2',
        value: 'refuse',
        sources: [at('WeightsContext.cpp', '10.16', 'convertOnnxWeights (external): convertDouble, then the FLOAT size is compared with the DOUBLE length: "Unexpected size for the external weights!"')],
        assumption: 'not stored at 10.2-10.15: the mock takes the stricter newer behaviour there',
      },
    ],
  },
  {
    id: 'P-ONE-MODEL',
    key: 'oneModelPerParserRefitter',
    rule: 'one parser refitter takes one model',
    eras: [
      { since: '10.0', value: false, sources: [at('ModelRefitter.cpp', '10.1', 'refitFromBytes/refitFromFile deserialize into a member model without a check (the generated-name set is never reset)')] },
      {
        since: '10.2',
        value: true,
        sources: [
          at('onnxProtoUtils.hpp', '10.13', 'deserializeOnnxModel: ONNXTRT_CHECK(model->ByteSizeLong() == 0, "A model was previously parsed!", kMODEL_DESERIALIZE_FAILED)'),
          { repo: 'NVIDIA/TensorRT', file: 'include/NvOnnxParser.h', commit: '82d1dca801c8318a5605399d5240780d0679e4e1', where: 'loadModelProto: "Only one model can be loaded at a time. Subsequent calls to loadModelProto() will result in an error."' },
        ],
        assumption: 'not stored at 10.2-10.12: the mock refuses a second model there too (never more lenient)',
      },
    ],
  },
  {
    id: 'P-REFIT-OBSERVER',
    key: 'refitObserver',
    rule: 'IParserRefitter::setRefitObserver and RefitRecord',
    eras: [
      { since: '10.0', value: false, sources: [{ repo: 'NVIDIA/TensorRT', file: 'include/NvOnnxParser.h', commit: '82d1dca801c8318a5605399d5240780d0679e4e1', where: '11.1 (parser 0.1.0): no IRefitterObserver' }] },
      {
        since: '11.2',
        value: true,
        sources: [
          { url: 'https://github.com/NVIDIA/TensorRT/releases', where: 'v11.2 release notes: "Added IRefitterObserver class for better refitting of ONNX models."' },
          { url: 'https://docs.nvidia.com/deeplearning/tensorrt/11.3.0/_static/c-api/classnvonnxparser_1_1_i_refitter_observer-members.html', where: 'onRefittableWeight(RefitRecord const&)' },
        ],
      },
    ],
  },
  {
    id: 'P-GEMM-BIAS-11.3',
    key: 'refitMayDropGemmBias',
    rule: 'with BuilderFlag.REFIT a GEMM bias may be dropped and treated as zero (known issue)',
    eras: [
      { since: '10.0', value: false, sources: [{ url: 'https://docs.nvidia.com/deeplearning/tensorrt/11.3.0/inference-library/refitting-engines.html', where: 'the note names 11.3 only' }] },
      {
        since: '11.3',
        value: true,
        sources: [{ url: 'https://docs.nvidia.com/deeplearning/tensorrt/11.3.0/inference-library/refitting-engines.html', where: '"A GEMM bias can be dropped and treated as zero, and that bias is not exposed through the refit API. BuilderFlag::kREFIT_IDENTICAL does not reproduce the issue."' }],
      },
      {
        since: '11.4',
        value: false,
        sources: [{ url: 'https://docs.nvidia.com/deeplearning/tensorrt/11.4.0/inference-library/refitting-engines.html', where: 'the 11.4 page has no such note' }],
        assumption: 'whether 11.4 fixed it is not stated; the mock warns for 11.3 only',
      },
    ],
  },
];

const cache = new Map<string, OnnxParserRules>();

/**
 * The parser rules of a TensorRT version (default: the newest known). Every consumer — importer, parser refitter,
 * mock builder — reads version differences from here, never from version comparisons of its own.
 *
 * @example
 * ```ts
 * onnxParserRules('10.13').refittableTempBase; // 'tmp_batch_norm_weight'
 * onnxParserRules('10.16').constantOfShapeWeights; // true
 * ```
 */
export function onnxParserRules(version: string = NEWEST_KNOWN_TENSORRT): OnnxParserRules {
  const v = formatTensorRtVersion(parseTensorRtVersion(version));
  let rules = cache.get(v);
  if (!rules) {
    const out: Record<string, unknown> = { tensorrtVersion: v };
    for (const r of PARSER_RULES) out[r.key] = ruleEra(r, v).value;
    rules = Object.freeze(out) as unknown as OnnxParserRules;
    cache.set(v, rules);
  }
  return rules;
}

/** The era of `rule` that applies to `version`. */
export function ruleEra<K extends RuleKey>(rule: ParserRule<K>, version: string): RuleEra<OnnxParserRules[K]> {
  let era = rule.eras[0]!;
  for (const e of rule.eras) if (compareTensorRtVersions(version, e.since) >= 0) era = e;
  return era;
}
