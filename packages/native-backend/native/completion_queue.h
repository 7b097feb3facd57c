// Resolves Promises when CUDA work completes, without parking a libuv thread-pool thread per wait: one thread
// per JS environment polls the recorded events (cudaEventQuery, backing off up to 1 ms when idle) and hands each
// completion to the JS thread through a thread-safe function. Work is enqueued on the stream on the JS thread at
// call time, so stream order is the order of the JS calls.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common.h"
#include "cuda_api.h"
#include "safe_tsfn.h"

namespace trt_refit {

class CompletionQueue {
 public:
  // Runs on the completion thread once the event completed (e.g. copying a pinned staging block into the JS
  // destination). May throw NativeFailure.
  using OffThread = std::function<void()>;
  // Runs on the JS thread with the failure, if any, of the wait or of OffThread.
  using OnJs = std::function<void(Napi::Env, NativeFailure const*)>;

  explicit CompletionQueue(Napi::Env env);
  ~CompletionQueue();

  // JS thread only. Takes ownership of `event` (destroyed after completion).
  // `ownsEvent`: destroy the event after completion (false for a user's CudaEvent, which outlives the wait).
  void Add(Napi::Env env, cudaEvent_t event, OffThread offThread, OnJs onJs, bool ownsEvent = true);
  // Stops the thread; pending completions are dropped (the environment is going away).
  void Stop();
  size_t outstanding() const { return outstanding_; }

 private:
  struct Item {
    cudaEvent_t event;
    bool ownsEvent;
    OffThread offThread;
    OnJs onJs;
    std::optional<NativeFailure> failure;
  };
  void Run();
  void Deliver(std::unique_ptr<Item> item);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Item>> pending_;
  bool stop_ = false;
  bool stopped_ = false;
  SafeTsfn tsfn_;
  size_t outstanding_ = 0;  // JS thread only: keeps the event loop alive while > 0
  std::thread thread_;
};

// Records an event on `stream` (JS thread) and returns a Promise that settles once the work enqueued before it has
// completed: `offThread` runs on the completion thread first, then `value` on the JS thread gives the resolution.
// `done` runs on the JS thread in every case (success, failure), before the Promise settles.
Napi::Promise WhenComplete(Napi::Env env, cudaStream_t stream, CompletionQueue::OffThread offThread,
                           std::function<Napi::Value(Napi::Env)> value, std::function<void()> done = nullptr);

// A Promise settled when `event` (owned by the caller, already recorded) completes.
Napi::Promise WhenEventComplete(Napi::Env env, cudaEvent_t event, std::function<void()> done);

}  // namespace trt_refit
