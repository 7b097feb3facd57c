import { Severity, type ErrorRecorder, type Logger } from '@trt-refit/core';
import type { NativeErrorRecorderBridge, NativeLogSink, NativeTensorRtModule } from './binding.js';
import { errorCodeName, severityName, severityNumber } from './native-enums.js';

/**
 * TensorRT's messages for one JS {@link Logger}. The native sink queues what TensorRT logs on any thread; `flush`
 * moves the queue into the logger. Every synchronous call flushes right after it returns (so a `false` comes with
 * its reason already logged), and the addon nudges a flush for messages logged on worker threads.
 */
export class LogBridge {
  readonly sink: NativeLogSink;
  /** The last messages with their sequence numbers, so a failing call can quote what TensorRT logged while it ran
   * even when a nudge already flushed them to the logger. */
  readonly #recent: { seq: number; severity: Severity; message: string }[] = [];
  #seq = 0;

  constructor(
    tensorrt: NativeTensorRtModule,
    readonly logger: Logger,
    minSeverity: Severity,
  ) {
    this.sink = new tensorrt.LogSink(() => this.flush(), severityNumber(minSeverity));
  }

  /** Forwards queued messages to the logger and returns them (callers add the errors to exceptions). */
  flush(): { severity: Severity; message: string }[] {
    const out = this.sink.drain().map(([s, message]) => ({ severity: severityName(s), message }));
    for (const m of out) {
      this.#recent.push({ seq: ++this.#seq, ...m });
      if (this.#recent.length > 256) this.#recent.shift();
      try {
        this.logger.log(m.severity, m.message);
      } catch {
        // A Logger must not throw (core contract); one that does must not break the call that logged.
      }
    }
    return out;
  }

  /** A position in the message sequence, for {@link since}. */
  mark(): number {
    return this.#seq;
  }

  /** Messages flushed after `mark` (flushing the queue first). */
  since(mark: number): { severity: Severity; message: string }[] {
    this.flush();
    return this.#recent.filter((m) => m.seq > mark).map(({ severity, message }) => ({ severity, message }));
  }
}

/**
 * Loggers are bridged once each: TensorRT keeps the first logger it sees as a process-wide one, so native loggers
 * are never freed, and one per JS logger bounds how many exist.
 */
export class LogBridges {
  private readonly bridges = new WeakMap<Logger, LogBridge>();
  constructor(
    private readonly tensorrt: NativeTensorRtModule,
    private readonly minSeverity: Severity,
  ) {}

  for(logger: Logger): LogBridge {
    let b = this.bridges.get(logger);
    if (!b) this.bridges.set(logger, (b = new LogBridge(this.tensorrt, logger, this.minSeverity)));
    return b;
  }
}

/** An `IErrorRecorder` whose reports reach a JS {@link ErrorRecorder}. */
export class RecorderBridge {
  readonly native: NativeErrorRecorderBridge;
  constructor(
    tensorrt: NativeTensorRtModule,
    readonly recorder: ErrorRecorder,
    capacity = 1024,
  ) {
    this.native = new tensorrt.ErrorRecorderBridge(() => this.flush(), capacity);
  }

  flush(): void {
    for (const [code, description] of this.native.drain()) {
      try {
        this.recorder.reportError(errorCodeName(code), description);
      } catch {
        // Same contract as loggers: a throwing recorder must not break TensorRT's call.
      }
    }
  }

  close(): void {
    this.flush();
    this.native.close();
  }
}

/** Messages at ERROR severity or worse, for error messages. */
export function errorsOf(messages: readonly { severity: Severity; message: string }[]): string[] {
  return messages.filter((m) => m.severity === Severity.ERROR || m.severity === Severity.INTERNAL_ERROR).map((m) => m.message);
}
