// Per-environment state (main thread and each worker thread get their own): constructors of the wrapped
// classes and the CUDA completion queue. Stored as Napi instance data, so the addon works in worker threads.
#pragma once

#include <napi.h>

#include <map>
#include <memory>
#include <string>

#include "completion_queue.h"

namespace trt_refit {

struct AddonData {
  std::map<std::string, Napi::FunctionReference> constructors;
  std::unique_ptr<CompletionQueue> completions;
  // Set by the cleanup hook: finalizers that run afterwards must not call into JS.
  bool shuttingDown = false;

  static AddonData& Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

  CompletionQueue& Completions(Napi::Env env) {
    if (!completions) completions = std::make_unique<CompletionQueue>(env);
    return *completions;
  }

  Napi::Function Constructor(Napi::Env env, std::string const& name) {
    auto it = constructors.find(name);
    if (it == constructors.end()) throw Napi::Error::New(env, "trt-refit addon: unknown class " + name);
    return it->second.Value();
  }

  void Register(std::string const& name, Napi::Function ctor) {
    constructors[name] = Napi::Persistent(ctor);
  }
};

}  // namespace trt_refit
