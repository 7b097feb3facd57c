// TensorRT's logger and error recorder, bridged to JS. TensorRT calls both from any thread (a build runs on a
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

namespace trt_refit {

/** Queued (code, text) records as a JS array of [code, text] pairs, led by a "dropped" record when any were. */
Napi::Array Records(Napi::Env env, std::vector<std::pair<int32_t, std::string>> const& records, size_t dropped,
                    int32_t droppedCode);

class DrainQueue {
 public:
  DrainQueue(Napi::Env env, Napi::Function notify, size_t capacity);
  // Any thread. Drops the record (and counts it) when the queue is full or closed.
  void Push(int32_t code, char const* text);
  // JS thread. Returns the queued records; `dropped` gets how many were lost since the last call.
  std::vector<std::pair<int32_t, std::string>> Take(size_t& dropped);
  // JS thread. Releases the thread-safe function; later records are dropped.
  void Close();

 private:
  std::mutex mutex_;
  std::deque<std::pair<int32_t, std::string>> records_;
  size_t capacity_;
  size_t dropped_ = 0;
  bool notifyPending_ = false;
  bool closed_ = false;
  SafeTsfn tsfn_;
};

// nvinfer1::ILogger forwarding to a DrainQueue. Never deleted: TensorRT keeps the first logger it sees as its
// global logger, so a logger must outlive every TensorRT object of the process, not only those created with it.
class NativeLogger : public nvinfer1::ILogger {
 public:
  NativeLogger(std::shared_ptr<DrainQueue> queue, int32_t minSeverity) : queue_(std::move(queue)), minSeverity_(minSeverity) {}
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override;
  void setMinSeverity(int32_t s) { minSeverity_ = s; }

 private:
  std::shared_ptr<DrainQueue> queue_;
  std::atomic<int32_t> minSeverity_;
};

// nvinfer1::IErrorRecorder keeping errors for TensorRT's own queries and queueing each one for JS.
class NativeErrorRecorder : public nvinfer1::IErrorRecorder {
 public:
  NativeErrorRecorder(std::shared_ptr<DrainQueue> queue, size_t capacity) : queue_(std::move(queue)), capacity_(capacity) {}
  int32_t getNbErrors() const noexcept override;
  nvinfer1::ErrorCode getErrorCode(int32_t errorIdx) const noexcept override;
  ErrorDesc getErrorDesc(int32_t errorIdx) const noexcept override;
  bool hasOverflowed() const noexcept override;
  void clear() noexcept override;
  bool reportError(nvinfer1::ErrorCode val, ErrorDesc desc) noexcept override;
  RefCount incRefCount() noexcept override { return ++refs_; }
  RefCount decRefCount() noexcept override { return --refs_; }

 private:
  std::shared_ptr<DrainQueue> queue_;
  size_t capacity_;
  mutable std::mutex mutex_;
  // A deque keeps descriptions at stable addresses, as getErrorDesc hands out pointers.
  std::deque<std::pair<nvinfer1::ErrorCode, std::string>> errors_;
  bool overflowed_ = false;
  std::atomic<RefCount> refs_{0};
};

// JS class LogSink: new LogSink(notify, minSeverity). drain() -> [severity, message][].
class LogSink : public Napi::ObjectWrap<LogSink> {
 public:
  static void Init(Napi::Env env, AddonData& data);
  static LogSink& From(Napi::Env env, Napi::Value v, char const* parameter);
  explicit LogSink(Napi::CallbackInfo const& info);
  ~LogSink() override;
  NativeLogger* logger() const { return logger_; }

 private:
  Napi::Value Drain(Napi::CallbackInfo const& info);
  Napi::Value SetMinSeverity(Napi::CallbackInfo const& info);
  Napi::Value Close(Napi::CallbackInfo const& info);
  std::shared_ptr<DrainQueue> queue_;
  NativeLogger* logger_ = nullptr;
};

}  // namespace trt_refit

// The classes split out of this header, so that its includers still see them.
#include "trt/trt_error_recorder_bridge.h"
