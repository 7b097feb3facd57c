import type { EngineLayerInfo } from '@trt-refit/core';

/**
 * Core's {@link EngineLayerInfo} from the JSON of TensorRT's engine inspector
 * (`IEngineInspector::getEngineInformation(kJSON)`). With ProfilingVerbosity kDETAILED (the native builder's
 * default) each layer is an object with `Name`, `LayerType`, `Inputs`/`Outputs` (objects with a `Name`) and a
 * `Metadata` string listing the ONNX nodes it came from as `[ONNX Layer: name]` separated by U+001E; with
 * kLAYER_NAMES_ONLY a layer is only its name, whose " + " separated parts name the fused layers.
 */
export function parseEngineLayers(json: string): EngineLayerInfo[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  const layers = (doc as { Layers?: unknown })?.Layers;
  if (!Array.isArray(layers)) return [];
  return layers.map((l, i) => (typeof l === 'string' ? fromName(l) : fromObject(l as Record<string, unknown>, i)));
}

function fromName(name: string): EngineLayerInfo {
  return { name, type: 'unknown', fusedFrom: splitFused(name), inputs: [], outputs: [], weights: [] };
}

function splitFused(name: string): string[] {
  return name.split(' + ').map((s) => s.trim()).filter(Boolean);
}

function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((t) => (typeof t === 'string' ? t : typeof (t as { Name?: unknown })?.Name === 'string' ? (t as { Name: string }).Name : '')).filter(Boolean);
}

function fromObject(o: Record<string, unknown>, index: number): EngineLayerInfo {
  const name = typeof o.Name === 'string' ? o.Name : `layer_${index}`;
  const type = typeof o.LayerType === 'string' ? o.LayerType : 'unknown';
  const metadata = typeof o.Metadata === 'string' ? o.Metadata : '';
  const onnx = [...metadata.matchAll(/\[ONNX Layer: ([^\]]+)\]/g)].map((m) => m[1]!.trim());
  const weights = ['Weights', 'Bias', 'Kernel', 'Scale', 'Shift']
    .filter((k) => o[k] !== undefined && o[k] !== null)
    .map((k) => k.toLowerCase());
  return { name, type, fusedFrom: onnx.length ? onnx : splitFused(name), inputs: names(o.Inputs), outputs: names(o.Outputs), weights };
}
