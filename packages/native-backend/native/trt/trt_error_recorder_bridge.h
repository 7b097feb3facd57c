// ErrorRecorderBridge: split from trt_logger.h (one wrapped class per .h/.cc pair).
// worker), and JS may only be entered on its own thread, so messages go into a bounded queue: JS drains it after
// each synchronous call (so a `false` comes with its reason already logged) and on a thread-safe-function nudge
// for messages produced off-thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "addon_data.h"
#include "safe_tsfn.h"
#include "trt/trt_library.h"

#include "trt/trt_logger.h"

namespace trt_refit {

// JS class ErrorRecorderBridge: new ErrorRecorderBridge(notify, capacity). drain() -> [code, description][].
class ErrorRecorderBridge : public Napi::ObjectWrap<ErrorRecorderBridge> {
 public:
  static void Init(Napi::Env env, AddonData& data);
  // nullptr for JS null/undefined.
  static std::shared_ptr<NativeErrorRecorder> From(Napi::Env env, Napi::Value v, char const* parameter);
  explicit ErrorRecorderBridge(Napi::CallbackInfo const& info);
  ~ErrorRecorderBridge() override;

 private:
  Napi::Value Drain(Napi::CallbackInfo const& info);
  Napi::Value Clear(Napi::CallbackInfo const& info);
  Napi::Value Close(Napi::CallbackInfo const& info);
  std::shared_ptr<DrainQueue> queue_;
  std::shared_ptr<NativeErrorRecorder> recorder_;
};

}  // namespace trt_refit
