/**
 * Stable codes of every error trt-refit throws. Match on `error.code`, not on the class or message.
 */
export const TrtRefitErrorCode = {
  INVALID_ARGUMENT: 'ERR_TRT_REFIT_INVALID_ARGUMENT',
  INVALID_FLAGS: 'ERR_TRT_REFIT_INVALID_FLAGS',
  UNSUPPORTED_FEATURE: 'ERR_TRT_REFIT_UNSUPPORTED_FEATURE',
  NOT_REFITTABLE: 'ERR_TRT_REFIT_NOT_REFITTABLE',
  DISPOSED: 'ERR_TRT_REFIT_DISPOSED',
  INVALID_STATE: 'ERR_TRT_REFIT_INVALID_STATE',
  INVALID_MODEL: 'ERR_TRT_REFIT_INVALID_MODEL',
  EXTERNAL_DATA: 'ERR_TRT_REFIT_EXTERNAL_DATA',
  UNSUPPORTED_MODEL: 'ERR_TRT_REFIT_UNSUPPORTED_MODEL',
  INVALID_PLAN: 'ERR_TRT_REFIT_INVALID_PLAN',
  PLAN_VERSION: 'ERR_TRT_REFIT_PLAN_VERSION',
  WEIGHTS_MISMATCH: 'ERR_TRT_REFIT_WEIGHTS_MISMATCH',
  REFIT_FAILED: 'ERR_TRT_REFIT_REFIT_FAILED',
  BUILD_FAILED: 'ERR_TRT_REFIT_BUILD_FAILED',
  EXECUTION_FAILED: 'ERR_TRT_REFIT_EXECUTION_FAILED',
  BACKEND_UNAVAILABLE: 'ERR_TRT_REFIT_BACKEND_UNAVAILABLE',
  DEVICE: 'ERR_TRT_REFIT_DEVICE',
  UNDEFINED_BEHAVIOR: 'ERR_TRT_REFIT_UNDEFINED_BEHAVIOR',
} as const;
export type TrtRefitErrorCode = (typeof TrtRefitErrorCode)[keyof typeof TrtRefitErrorCode];

/** Base class of every error trt-refit throws; `code` is stable, `details` holds machine-readable context. */
export class TrtRefitError extends Error {
  readonly code: TrtRefitErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: TrtRefitErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** An argument has the wrong type or value. Public façades throw it before a backend sees the call. */
export class InvalidArgumentError extends TrtRefitError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(TrtRefitErrorCode.INVALID_ARGUMENT, message, details);
  }
}

/** One broken builder-flag rule: `rule` is a stable identifier, `message` says what and how to fix it. */
export interface FlagViolation {
  readonly rule: string;
  readonly message: string;
}

/** Builder or serialization flags that break TensorRT's rules; lists every violation at once. */
export class InvalidFlagsError extends TrtRefitError {
  readonly violations: readonly FlagViolation[];
  constructor(violations: readonly FlagViolation[]) {
    super(
      TrtRefitErrorCode.INVALID_FLAGS,
      `invalid flags: ${violations.map((v) => `[${v.rule}] ${v.message}`).join('; ')}`,
      { violations },
    );
    this.violations = violations;
  }
}

/** A flag or API that the (emulated or loaded) TensorRT version does not have. */
export class UnsupportedFeatureError extends TrtRefitError {
  constructor(message: string, readonly feature: string, readonly tensorrtVersion: string) {
    super(TrtRefitErrorCode.UNSUPPORTED_FEATURE, message, { feature, tensorrtVersion });
  }
}

/** `createRefitter` on an engine built without a refit flag. */
export class NotRefittableError extends TrtRefitError {
  constructor(message = 'the engine is not refittable: build it with BuilderFlag.REFIT, REFIT_IDENTICAL or REFIT_INDIVIDUAL (it cannot be made refittable after the build)') {
    super(TrtRefitErrorCode.NOT_REFITTABLE, message);
  }
}

/** An object was used after `dispose()`. */
export class DisposedError extends TrtRefitError {
  constructor(what: string) {
    super(TrtRefitErrorCode.DISPOSED, `${what} was used after dispose()`, { what });
  }
}

/** A call that is not allowed in the object's current state (e.g. a second `loadModelProto`). */
export class InvalidStateError extends TrtRefitError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(TrtRefitErrorCode.INVALID_STATE, message, details);
  }
}

/**
 * A call whose outcome TensorRT leaves undefined (refitting a REFIT_IDENTICAL engine with other weights, running an
 * engine after a failed refit, ...). The mock refuses it loudly instead of guessing; `tensorrt` says what real
 * TensorRT would do (typically: accept it silently, with undefined results), so a test that passes on the mock never
 * depends on behaviour TensorRT does not promise.
 */
export class UndefinedBehaviorError extends TrtRefitError {
  constructor(message: string, readonly tensorrt: string, details: Record<string, unknown> = {}) {
    super(TrtRefitErrorCode.UNDEFINED_BEHAVIOR, `${message} (TensorRT: ${tensorrt})`, { ...details, tensorrt });
  }
}

/** One cause of a backend being unavailable, with what to do about it. */
export interface UnavailableReason {
  readonly cause: string;
  readonly fix: string;
}

/** A backend cannot be used here; `reasons` lists every cause and its fix. */
export class BackendUnavailableError extends TrtRefitError {
  readonly reasons: readonly UnavailableReason[];
  constructor(backend: string, reasons: readonly UnavailableReason[]) {
    super(
      TrtRefitErrorCode.BACKEND_UNAVAILABLE,
      `the ${backend} backend is unavailable:\n${reasons.map((r) => `  - ${r.cause}\n    fix: ${r.fix}`).join('\n')}`,
      { backend, reasons },
    );
    this.reasons = reasons;
  }
}

/** True when `e` is a {@link TrtRefitError} (also across duplicated package copies). */
export function isTrtRefitError(e: unknown): e is TrtRefitError {
  if (e instanceof TrtRefitError) return true;
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_TRT_REFIT_');
}
