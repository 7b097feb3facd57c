/**
 * Runs asynchronous operations one at a time, in call order. TensorRT objects are not thread-safe and a refit
 * must not overlap work enqueued on the same engine, so every long call on a refitter or an engine goes through
 * one of these.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** True while an operation is running or waiting. */
  get busy(): boolean {
    return this.pending > 0;
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(operation, operation);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.pending--;
    });
  }
}

/** Runs `operation` after every queue in `queues` is free, holding all of them meanwhile (in order, no deadlock). */
export function runExclusive<T>(queues: readonly SerialQueue[], operation: () => Promise<T>): Promise<T> {
  const [first, ...rest] = queues;
  if (!first) return operation();
  return first.run(() => runExclusive(rest, operation));
}
