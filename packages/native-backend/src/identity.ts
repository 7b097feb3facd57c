import { NetworkDefinition, networkIdentityManifest, type IdentityManifest } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel, parseOnnxModel } from '@trt-refit/onnx';

/**
 * Build-time identity manifests of the plans this process built with REFIT_IDENTICAL (or STRIP_PLAN alone), by plan
 * bytes: `runtime.deserializeCudaEngine(plan)` of the same bytes gives the engine its manifest. A plan read back from
 * a file needs `engine.setIdentityManifest(manifest)` (the CLI keeps it beside the plan as `<plan>.identity.json`).
 */
const PLAN_IDENTITY = new WeakMap<Uint8Array, IdentityManifest>();

/** The identity manifest this process recorded when it built `plan`, or undefined. */
export function planIdentityManifest(plan: Uint8Array): IdentityManifest | undefined {
  return PLAN_IDENTITY.get(plan);
}

/** @internal */
export function recordPlanIdentity(plan: Uint8Array, manifest: IdentityManifest): void {
  PLAN_IDENTITY.set(plan, manifest);
}

/** Where a native network's ONNX model came from, so the build can hash its weights in TS. */
export type OnnxSource = { readonly path: string } | { readonly bytes: Uint8Array; readonly modelPath?: string | undefined };

/**
 * The weights of the engine TensorRT builds from `source`, as trt-refit's importer names and converts them
 * (TensorRT's own parser filled the native network; its weights are not readable from JS).
 */
export async function onnxIdentityManifest(source: OnnxSource, tensorrtVersion: string): Promise<IdentityManifest> {
  const model = 'path' in source ? await openOnnxModel(source.path) : parseOnnxModel(source.bytes, source.modelPath ? { modelPath: source.modelPath } : {});
  const network = new NetworkDefinition(tensorrtVersion);
  await importOnnxModel(model, network);
  return networkIdentityManifest(network);
}
