import { ErrorCode, Severity } from './enums.js';

/**
 * Receives TensorRT's messages (`nvinfer1::ILogger`). Must not throw; the native backend calls it on the JS
 * thread through a thread-safe function, so it may be called after the call that caused it has returned.
 */
export interface Logger {
  log(severity: Severity, message: string): void;
}

/**
 * Collects errors of the objects it is attached to (`nvinfer1::IErrorRecorder`): a call that returns `false`
 * reports its reason here as well as to the logger.
 */
export interface ErrorRecorder {
  reportError(code: ErrorCode, description: string): boolean;
  getNbErrors(): number;
  getErrorCode(index: number): ErrorCode;
  getErrorDesc(index: number): string;
  hasOverflowed(): boolean;
  clear(): void;
}

/** An in-memory {@link ErrorRecorder} keeping at most `capacity` errors (then it reports overflow). */
export class CollectingErrorRecorder implements ErrorRecorder {
  readonly errors: { code: ErrorCode; description: string }[] = [];
  private overflowed = false;
  constructor(private readonly capacity = 1024) {}
  reportError(code: ErrorCode, description: string): boolean {
    if (this.errors.length >= this.capacity) {
      this.overflowed = true;
      return true;
    }
    this.errors.push({ code, description });
    return false;
  }
  getNbErrors(): number {
    return this.errors.length;
  }
  getErrorCode(index: number): ErrorCode {
    return this.errors[index]?.code ?? ErrorCode.SUCCESS;
  }
  getErrorDesc(index: number): string {
    return this.errors[index]?.description ?? '';
  }
  hasOverflowed(): boolean {
    return this.overflowed;
  }
  clear(): void {
    this.errors.length = 0;
    this.overflowed = false;
  }
}

/** A {@link Logger} that keeps messages in memory; handy in tests and for reporting. */
export class MemoryLogger implements Logger {
  readonly messages: { severity: Severity; message: string }[] = [];
  constructor(private readonly forward?: Logger) {}
  log(severity: Severity, message: string): void {
    this.messages.push({ severity, message });
    this.forward?.log(severity, message);
  }
  /** Messages at ERROR or INTERNAL_ERROR severity. */
  errors(): string[] {
    return this.messages.filter((m) => m.severity === Severity.ERROR || m.severity === Severity.INTERNAL_ERROR).map((m) => m.message);
  }
  clear(): void {
    this.messages.length = 0;
  }
}

const RANK: Record<Severity, number> = { INTERNAL_ERROR: 0, ERROR: 1, WARNING: 2, INFO: 3, VERBOSE: 4 };

/** A {@link Logger} writing messages at or above `minSeverity` to stderr. */
export class ConsoleLogger implements Logger {
  constructor(private readonly minSeverity: Severity = Severity.WARNING) {}
  log(severity: Severity, message: string): void {
    if (RANK[severity] <= RANK[this.minSeverity]) process.stderr.write(`[trt-refit] ${severity}: ${message}\n`);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = { log() {} };
