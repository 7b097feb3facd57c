import { requireFeature, type SerializationConfig, type SerializationFlag } from '@trt-refit/core';
import type { NativeSerializationConfig as RawConfig } from './binding.js';
import type { LogBridge } from './diagnostics.js';
import { serializationFlagBit, serializationFlagNames } from './native-enums.js';
import { NativeResource } from './native-resource.js';
import { expectIterable, expectSerializationFlag } from './validate.js';

/** `ISerializationConfig`: flags by name; booleans are TensorRT's. */
export class NativeSerializationConfig extends NativeResource<RawConfig> implements SerializationConfig {
  /** @internal */
  constructor(
    native: RawConfig,
    log: LogBridge,
    private readonly version: string,
  ) {
    super(native, log, 'SerializationConfig');
  }

  setFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.setFlag(serializationFlagBit(f)));
  }

  clearFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.clearFlag(serializationFlagBit(f)));
  }

  getFlag(flag: SerializationFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => n.getFlag(serializationFlagBit(f)));
  }

  setFlags(flags: Iterable<SerializationFlag>): boolean {
    const list = [...expectIterable<SerializationFlag>(flags, 'flags')].map((f, i) => this.known(f, `flags[${i}]`));
    const mask = list.reduce((m, f) => m | (1 << serializationFlagBit(f)), 0) >>> 0;
    return this.call((n) => n.setFlags(mask));
  }

  getFlags(): SerializationFlag[] {
    return this.call((n) => serializationFlagNames(n.getFlags()));
  }

  private known(flag: unknown, parameter = 'flag'): SerializationFlag {
    const f = expectSerializationFlag(flag, parameter);
    requireFeature(this.version, `SerializationFlag.${f}`);
    return f;
  }

  /** @internal */
  raw(): RawConfig {
    return this.live();
  }
}
