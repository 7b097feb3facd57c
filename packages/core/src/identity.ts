import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/**
 * The build-time content of the refittable weights of a REFIT_IDENTICAL (or STRIP_PLAN) engine: SHA-256 of each
 * weight's bytes as the engine holds them, by engine weight name. TensorRT requires refits of such an engine to
 * supply these exact weights but does not check (other weights give undefined results); trt-refit checks them
 * against this manifest before a refit reaches TensorRT (docs/fidelity.md, F-IDENTICAL).
 */
export interface IdentityManifest {
  readonly algorithm: 'sha256';
  /** Hex SHA-256 of each weight's bytes. */
  readonly weights: Readonly<Record<string, string>>;
}

/** Hex SHA-256 of weight bytes. */
export function weightsSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What TensorRT does with a REFIT_IDENTICAL refit of other weights, for messages. */
export const IDENTICAL_REFIT_TENSORRT = 'TensorRT would not check this and would accept the refit silently, with undefined results';

/**
 * Names of the weights whose bytes differ from the manifest (weights the manifest does not list are not judged).
 *
 * @example
 * ```ts
 * identityDifferences(manifest, [{ name: 'conv.weight', bytes }]); // ['conv.weight'] when bytes changed
 * ```
 */
export function identityDifferences(manifest: IdentityManifest, weights: Iterable<{ readonly name: string; readonly bytes: Uint8Array }>): string[] {
  const out: string[] = [];
  for (const { name, bytes } of weights) {
    const want = manifest.weights[name];
    if (want !== undefined && weightsSha256(bytes) !== want) out.push(name);
  }
  return out;
}

/**
 * Reads a manifest written as JSON (`JSON.stringify(manifest)`).
 * @throws InvalidArgumentError for anything else.
 */
export function parseIdentityManifest(text: string): IdentityManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`an identity manifest must be JSON: ${(e as Error).message}`);
  }
  const o = raw as { algorithm?: unknown; weights?: unknown } | null;
  if (!o || o.algorithm !== 'sha256' || !o.weights || typeof o.weights !== 'object' || Array.isArray(o.weights)) {
    throw new InvalidArgumentError('not an identity manifest: expected { "algorithm": "sha256", "weights": { name: hex } }');
  }
  for (const [name, h] of Object.entries(o.weights)) {
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw new InvalidArgumentError(`identity manifest: the hash of ${name} is not 64 hex digits`);
  }
  return { algorithm: 'sha256', weights: { ...(o.weights as Record<string, string>) } };
}

/**
 * The manifest of a network's weights as built (every weight with host values, under its name in effect); what a
 * builder records for a REFIT_IDENTICAL engine.
 */
export function networkIdentityManifest(network: { weightsEntries(): readonly { readonly name: string; readonly weights: { readonly values: unknown } }[] }): IdentityManifest {
  const weights: Record<string, string> = {};
  for (const e of network.weightsEntries()) {
    const v = e.weights.values;
    if (ArrayBuffer.isView(v)) weights[e.name] = weightsSha256(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return { algorithm: 'sha256', weights };
}
