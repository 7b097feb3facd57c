import { ErrorCode, Severity } from './enums.js';

/**
 * Receives TensorRT's messages (`nvinfer1::ILogger`). Must not throw; the native backend calls it on the JS
 * thread through a thread-safe function, so it may be called after the call that caused it has returned.
 */
export interface Logger {
  /** Receives one message at its severity; the logger decides what to keep or print. */
  log(severity: Severity, message: string): void;
}

/**
 * Collects errors of the objects it is attached to (`nvinfer1::IErrorRecorder`): a call that returns `false`
 * reports its reason here as well as to the logger.
 */
export interface ErrorRecorder {
  /**
   * Records one error. Returns true when the error is fatal and the current call must end (TensorRT's hint); when
   * the recorder is full the error is dropped and {@link ErrorRecorder.hasOverflowed} turns true. trt-refit's
   * backends report a reason once the outcome is decided and do not use the result.
   */
  reportError(code: ErrorCode, description: string): boolean;
  /** Number of errors recorded (dropped ones not counted). */
  getNbErrors(): number;
  /** Code of the error at `index`, 0 to `getNbErrors() - 1`. */
  getErrorCode(index: number): ErrorCode;
  /** Description of the error at `index`, 0 to `getNbErrors() - 1`. */
  getErrorDesc(index: number): string;
  /** True when errors were dropped because the recorder was full. */
  hasOverflowed(): boolean;
  /** Forgets every recorded error. */
  clear(): void;
}

/** An in-memory {@link ErrorRecorder} keeping at most `capacity` errors (then it reports overflow). */
export class CollectingErrorRecorder implements ErrorRecorder {
  readonly errors: { code: ErrorCode; description: string }[] = [];
  private overflowed = false;
  constructor(private readonly capacity = 1024) {}
  /** Keeps the error and returns false; once `capacity` errors are kept, drops it, marks the overflow, returns true. */
  reportError(code: ErrorCode, description: string): boolean {
    if (this.errors.length >= this.capacity) {
      this.overflowed = true;
      return true;
    }
    this.errors.push({ code, description });
    return false;
  }
  /** Number of errors kept. */
  getNbErrors(): number {
    return this.errors.length;
  }
  /** Code of the error at `index`; SUCCESS for an index out of range. */
  getErrorCode(index: number): ErrorCode {
    return this.errors[index]?.code ?? ErrorCode.SUCCESS;
  }
  /** Description of the error at `index`; `''` for an index out of range. */
  getErrorDesc(index: number): string {
    return this.errors[index]?.description ?? '';
  }
  /** True when an error was dropped because `capacity` errors were already kept. */
  hasOverflowed(): boolean {
    return this.overflowed;
  }
  /** Forgets the kept errors and the overflow. */
  clear(): void {
    this.errors.length = 0;
    this.overflowed = false;
  }
}

/** A {@link Logger} that keeps messages in memory; handy in tests and for reporting. */
export class MemoryLogger implements Logger {
  readonly messages: { severity: Severity; message: string }[] = [];
  constructor(private readonly forward?: Logger) {}
  /** Keeps the message and passes it on to the logger given to the constructor, if any. */
  log(severity: Severity, message: string): void {
    this.messages.push({ severity, message });
    this.forward?.log(severity, message);
  }
  /** Messages at ERROR or INTERNAL_ERROR severity. */
  errors(): string[] {
    return this.messages.filter((m) => m.severity === Severity.ERROR || m.severity === Severity.INTERNAL_ERROR).map((m) => m.message);
  }
  /** Forgets the kept messages. */
  clear(): void {
    this.messages.length = 0;
  }
}

const RANK: Record<Severity, number> = { INTERNAL_ERROR: 0, ERROR: 1, WARNING: 2, INFO: 3, VERBOSE: 4 };

/** A {@link Logger} writing messages at or above `minSeverity` to stderr. */
export class ConsoleLogger implements Logger {
  constructor(private readonly minSeverity: Severity = Severity.WARNING) {}
  /** Writes `[trt-refit] SEVERITY: message` to stderr when `severity` is `minSeverity` or more severe. */
  log(severity: Severity, message: string): void {
    if (RANK[severity] <= RANK[this.minSeverity]) process.stderr.write(`[trt-refit] ${severity}: ${message}\n`);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = { log() {} };
