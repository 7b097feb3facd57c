import { isDataType } from './data-type.js';
import { WeightsRole } from './enums.js';
import type { Backend, Builder, BuilderConfig, CudaEngine, OnnxParser, ParserRefitter, Refitter, Runtime, SerializationConfig } from './interfaces.js';
import { expectBoolean, expectBuilderFlag, expectBytes, expectIterable, expectLocation, expectOptionalString, expectSerializationFlag, expectString, expectView, typeError } from './validate.js';

/**
 * The public objects every backend returns: each call's arguments are checked here, once, whatever the backend
 * (TypeError / RangeError naming the parameter, the expected and the received value), then the backend's object
 * (its handler) does the work. So one bad call gets one answer from the mock and from TensorRT. Where TensorRT
 * answers `false` (an unknown weights name, a count that differs), the handler does, with the reason logged.
 * The objects are the backend's own objects seen through a Proxy: `instanceof`, extension methods and lifetimes
 * stay theirs; `Symbol.dispose` / `Symbol.asyncDispose` call `dispose()`.
 */
type Checks<T> = { [K in keyof T]?: (...args: unknown[]) => void };

const INNER = new WeakMap<object, object>();
/** Methods that return a Promise: an argument error rejects it. */
const ASYNC = new Set<string | symbol>(['parse', 'parseFromFile', 'refitFromFile', 'refitFromBytes', 'loadModelProto', 'refitModelProto', 'refitCudaEngine', 'refitCudaEngineAsync', 'buildSerializedNetwork', 'deserializeCudaEngine', 'deserializeCudaEngineFromFile', 'serializeToFile', 'loadRuntime']);
const ROLES = new Set<string>(Object.values(WeightsRole));

/** The backend object behind a façade (or `value` itself). Backends unwrap what they are given back. */
export function unwrapFacade<T>(value: T): T {
  return (value !== null && typeof value === 'object' ? (INNER.get(value as object) as T | undefined) : undefined) ?? value;
}

function facade<T extends object>(inner: T, checks: Checks<T>, results: { [K in keyof T]?: (result: unknown) => unknown } = {}): T {
  const proxy = new Proxy(inner, {
    get(target, prop) {
      if (prop === Symbol.dispose || prop === Symbol.asyncDispose) {
        const dispose = (target as { dispose?: () => void }).dispose;
        return dispose ? () => dispose.call(target) : undefined;
      }
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const check = checks[prop as keyof T];
      const wrap = results[prop as keyof T];
      return (...args: unknown[]) => {
        if (check && ASYNC.has(prop)) {
          // a Promise-returning method rejects with the argument error instead of throwing it
          try {
            check(...args);
          } catch (e) {
            return Promise.reject(e);
          }
        } else check?.(...args);
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!wrap) return out;
        return out instanceof Promise ? out.then(wrap) : wrap(out);
      };
    },
  });
  INNER.set(proxy, inner);
  return proxy;
}

const weightsArg = (w: unknown, parameter = 'weights') => {
  if (w === null || typeof w !== 'object') throw typeError(parameter, 'a Weights object { type, values, count }', w);
  const { type, count } = w as { type?: unknown; count?: unknown };
  if (!isDataType(type)) throw typeError(`${parameter}.type`, 'a DataType', type);
  if (typeof count !== 'number') throw typeError(`${parameter}.count`, 'a number', count);
};
const flagsArg = (expect: (v: unknown, p: string) => unknown) => (flags: unknown) => {
  let i = 0;
  for (const f of expectIterable(flags, 'flags')) expect(f, `flags[${i++}]`);
};
const nameArg = (name: unknown) => void expectString(name, 'name');

const REFITTER_CHECKS: Checks<Refitter> = {
  setNamedWeights: (name, weights, location) => {
    nameArg(name);
    weightsArg(weights);
    expectLocation(location);
  },
  getNamedWeights: nameArg,
  getWeightsLocation: nameArg,
  unsetNamedWeights: nameArg,
  getWeightsPrototype: nameArg,
  refitCudaEngineAsync: (stream) => {
    if (stream === null || typeof stream !== 'object') throw typeError('stream', "a CudaStream of the backend's device API", stream);
  },
  setMaxThreads: (n) => {
    if (typeof n !== 'number') throw typeError('n', 'a number', n);
  },
  setWeightsValidation: (enabled) => void expectBoolean(enabled, 'enabled'),
  setErrorRecorder: (recorder) => {
    if (recorder !== null && (typeof recorder !== 'object' || typeof (recorder as { reportError?: unknown }).reportError !== 'function')) {
      throw typeError('recorder', 'an ErrorRecorder or null', recorder);
    }
  },
  setWeights: (layerName, role, weights) => {
    expectString(layerName, 'layerName');
    if (typeof role !== 'string' || !ROLES.has(role)) throw typeError('role', `a WeightsRole (${[...ROLES].join(', ')})`, role);
    weightsArg(weights);
  },
};

const BUILDER_CONFIG_CHECKS: Checks<BuilderConfig> = {
  setFlag: (f) => void expectBuilderFlag(f),
  clearFlag: (f) => void expectBuilderFlag(f),
  getFlag: (f) => void expectBuilderFlag(f),
  setFlags: flagsArg(expectBuilderFlag),
};

const SERIALIZATION_CONFIG_CHECKS: Checks<SerializationConfig> = {
  setFlag: (f) => void expectSerializationFlag(f),
  clearFlag: (f) => void expectSerializationFlag(f),
  getFlag: (f) => void expectSerializationFlag(f),
  setFlags: flagsArg(expectSerializationFlag),
};

const modelArgs = (bytes: unknown, modelPath: unknown) => {
  expectBytes(bytes, 'bytes');
  expectOptionalString(modelPath, 'modelPath');
};
const PARSER_REFITTER_CHECKS: Checks<ParserRefitter> = {
  refitFromFile: (path) => void expectString(path, 'path'),
  refitFromBytes: modelArgs,
  loadModelProto: modelArgs,
  loadInitializer: (name, data) => {
    nameArg(name);
    expectView(data, 'data');
  },
  setRefitObserver: (observer) => {
    if (observer !== null && (typeof observer !== 'object' || typeof (observer as { onRefittableWeight?: unknown }).onRefittableWeight !== 'function')) {
      throw typeError('observer', 'a RefitterObserver or null', observer);
    }
  },
};

const PARSER_CHECKS: Checks<OnnxParser> = {
  parse: modelArgs,
  parseFromFile: (path) => void expectString(path, 'path'),
};

const objectArg = (parameter: string, what: string) => (v: unknown) => {
  if (v === null || typeof v !== 'object') throw typeError(parameter, what, v);
};

/** The façade of an engine: its serialization configs checked too. */
function engineFacade(engine: CudaEngine): CudaEngine {
  return facade(engine, {
    serializeWithConfig: objectArg('config', 'a SerializationConfig of this engine'),
    serializeToFile: (path, config) => {
      expectString(path, 'path');
      if (config !== undefined) objectArg('config', 'a SerializationConfig of this engine')(config);
    },
  }, { createSerializationConfig: (c) => facade(c as SerializationConfig, SERIALIZATION_CONFIG_CHECKS) });
}

function runtimeFacade(runtime: Runtime): Runtime {
  return facade<Runtime>(
    runtime,
    {
      deserializeCudaEngine: (plan) => void expectBytes(plan, 'plan'),
      deserializeCudaEngineFromFile: (path) => void expectString(path, 'path'),
      setEngineHostCodeAllowed: (allowed) => void expectBoolean(allowed, 'allowed'),
      loadRuntime: (path) => void expectString(path, 'path'),
    },
    { deserializeCudaEngine: (e) => engineFacade(e as CudaEngine), deserializeCudaEngineFromFile: (e) => engineFacade(e as CudaEngine), loadRuntime: (r) => runtimeFacade(r as Runtime) },
  );
}

/**
 * A backend whose objects check their arguments in core (see {@link unwrapFacade}); what `createMockBackend()` and
 * `loadNativeBackend()` return. Idempotent: a backend already wrapped is returned as is.
 */
export function withFacades<B extends Backend>(backend: B): B {
  if (INNER.has(backend)) return backend;
  return facade<B>(backend, {
    createRefitter: objectArg('engine', "an engine of this backend's runtime"),
    createOnnxParser: objectArg('network', "a network of this backend's builder"),
    createParserRefitter: objectArg('refitter', 'a refitter of this backend'),
  }, {
    createBuilder: (b) =>
      facade<Builder>(b as Builder, { buildSerializedNetwork: (network, config) => {
        objectArg('network', 'a network of this builder')(network);
        objectArg('config', 'a config of this builder')(config);
      } }, { createBuilderConfig: (c) => facade(c as BuilderConfig, BUILDER_CONFIG_CHECKS) }),
    createRuntime: (r) => runtimeFacade(r as Runtime),
    createRefitter: (r) => facade(r as Refitter, REFITTER_CHECKS),
    createOnnxParser: (p) => facade(p as OnnxParser, PARSER_CHECKS),
    createParserRefitter: (p) => facade(p as ParserRefitter, PARSER_REFITTER_CHECKS),
  } as { [K in keyof B]?: (result: unknown) => unknown });
}
