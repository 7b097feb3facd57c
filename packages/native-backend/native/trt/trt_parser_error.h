// nvonnxparser::IParserError as a JS object: the ONNX parser and the parser refitter report the same errors.
#pragma once

#include <NvOnnxParser.h>
#include <napi.h>

namespace trt_refit {

inline Napi::Value ParserErrorToJs(Napi::Env env, nvonnxparser::IParserError const* e) {
  if (!e) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", static_cast<int32_t>(e->code()));
  o.Set("desc", e->desc() ? e->desc() : "");
  o.Set("file", e->file() ? e->file() : "");
  o.Set("line", e->line());
  o.Set("func", e->func() ? e->func() : "");
  o.Set("node", e->node());
  o.Set("nodeName", e->nodeName() ? e->nodeName() : "");
  o.Set("nodeOperator", e->nodeOperator() ? e->nodeOperator() : "");
  return o;
}

}  // namespace trt_refit
