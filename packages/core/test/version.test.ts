import { describe, expect, it } from 'vitest';
import { compareTensorRtVersions, hasFeature, parseTensorRtVersion, requireFeature, TrtRefitErrorCode, FEATURES, NEWEST_KNOWN_TENSORRT } from '@trt-refit/core';

describe('TensorRT versions and feature gates', () => {
  it('parses short, long and build versions; refuses garbage', () => {
    expect(parseTensorRtVersion('10.14')).toEqual({ major: 10, minor: 14, patch: 0 });
    expect(parseTensorRtVersion('11.1.0.106')).toEqual({ major: 11, minor: 1, patch: 0 });
    expect(() => parseTensorRtVersion('ten')).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT }));
  });
  it('compares numerically, not as text', () => {
    expect(compareTensorRtVersions('10.2', '10.13')).toBeLessThan(0);
    expect(compareTensorRtVersions('11.0', '10.16')).toBeGreaterThan(0);
    expect(compareTensorRtVersions('10.14.0', '10.14')).toBe(0);
  });
  it.each([
    ['BuilderFlag.REFIT_INDIVIDUAL', '10.1', false],
    ['BuilderFlag.REFIT_INDIVIDUAL', '10.2', true],
    ['SerializationFlag.INCLUDE_REFIT', '10.13', false],
    ['SerializationFlag.INCLUDE_REFIT', '10.14', true],
    ['IParserRefitter.loadModelProto', '10.12', false],
    ['IParserRefitter.loadModelProto', '10.13', true],
    ['ICudaEngine.getEngineStat', '10.13', false],
    ['BuilderFlag.STRIP_PLAN', '9.3', false],
    ['BuilderFlag.STRIP_PLAN', '10.0', true],
    ['IRefitter.setDynamicRange', '10.16', true],
    ['IRefitter.setDynamicRange', '11.0', false],
  ] as const)('%s in %s: %s', (feature, version, expected) => {
    expect(hasFeature(version, feature)).toBe(expected);
    if (expected) expect(() => requireFeature(version, feature)).not.toThrow();
    else expect(() => requireFeature(version, feature)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE, feature }));
  });
  it('says "removed" for an API a newer version dropped', () => {
    expect(() => requireFeature('11.1', 'IRefitter.setDynamicRange')).toThrow(/removed in TensorRT 11\.0/);
  });
  it('the newest known version has every feature that was not removed, except those of newer releases the mock emulates', () => {
    for (const [f, v] of Object.entries(FEATURES)) {
      if ('removed' in v) continue;
      expect(hasFeature(NEWEST_KNOWN_TENSORRT, f as keyof typeof FEATURES)).toBe(compareTensorRtVersions(v.since, NEWEST_KNOWN_TENSORRT) <= 0);
    }
    expect(hasFeature('11.2', 'IParserRefitter.setRefitObserver')).toBe(true);
    expect(hasFeature('11.1', 'IParserRefitter.setRefitObserver')).toBe(false);
  });
});
