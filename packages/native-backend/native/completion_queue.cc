#include "completion_queue.h"

#include <chrono>
#include <vector>

#include "addon_data.h"

namespace trt_refit {

CompletionQueue::CompletionQueue(Napi::Env env) {
  Napi::Function noop = Napi::Function::New(env, [](Napi::CallbackInfo const&) {});
  tsfn_ = SafeTsfn(env, noop, "trt-refit:cuda-completion");
}

CompletionQueue::~CompletionQueue() { Stop(); }

void CompletionQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stop_ = true;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  tsfn_.Release();
}

void CompletionQueue::Add(Napi::Env env, cudaEvent_t event, OffThread offThread, OnJs onJs, bool ownsEvent) {
  auto item = std::make_unique<Item>(Item{event, ownsEvent, std::move(offThread), std::move(onJs), std::nullopt});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) throw NativeFailure{kCodeInvalidState, "the CUDA completion queue has stopped (environment shutting down)"};
    pending_.push_back(std::move(item));
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  }
  if (outstanding_++ == 0) tsfn_.Ref(env);
  wake_.notify_one();
}

void CompletionQueue::Deliver(std::unique_ptr<Item> item) {
  Item* raw = item.release();
  // Fails only while the environment is being torn down: the item holds JS references that may only be released
  // on the JS thread, which is gone, so it is leaked deliberately.
  tsfn_.Call([this, raw](Napi::Env env, Napi::Function) {
    std::unique_ptr<Item> owned(raw);
    if (--outstanding_ == 0) tsfn_.Unref(env);
    owned->onJs(env, owned->failure ? &*owned->failure : nullptr);
  });
}

void CompletionQueue::Run() {
  CudaApi& cuda = CudaApi::Get();
  auto backoff = std::chrono::microseconds(20);
  std::vector<std::unique_ptr<Item>> active;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (active.empty()) wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      while (!pending_.empty()) {
        active.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    bool progressed = false;
    for (auto& item : active) {
      cudaError_t e = cuda.cudaEventQuery(item->event);
      if (e == cudaErrorNotReady) continue;
      if (e != cudaSuccess) {
        cuda.cudaGetLastError();
        item->failure = NativeFailure{kCodeDevice, Concat("waiting for CUDA work failed: ", cuda.Describe(e))};
      } else if (item->offThread) {
        try {
          item->offThread();
        } catch (NativeFailure const& f) {
          item->failure = f;
        } catch (std::exception const& ex) {
          item->failure = NativeFailure{kCodeDevice, ex.what()};
        }
      }
      if (item->ownsEvent) cuda.cudaEventDestroy(item->event);
      Deliver(std::move(item));
      progressed = true;
    }
    std::vector<std::unique_ptr<Item>> still;
    for (auto& item : active)
      if (item) still.push_back(std::move(item));
    active.swap(still);
    if (progressed) {
      backoff = std::chrono::microseconds(20);
    } else if (!active.empty()) {
      std::unique_lock<std::mutex> lock(mutex_);
      // New work or shutdown interrupts the nap; otherwise poll again after it.
      wake_.wait_for(lock, backoff, [this] { return stop_ || !pending_.empty(); });
      backoff = std::min(backoff * 2, std::chrono::microseconds(1000));
    }
  }
}

namespace {
Napi::Promise Settle(Napi::Env env, cudaEvent_t event, bool owns, CompletionQueue::OffThread offThread,
                     std::function<Napi::Value(Napi::Env)> value, std::function<void()> done) {
  auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  AddonData::Of(env).Completions(env).Add(
      env, event, std::move(offThread),
      [deferred, value = std::move(value), done = std::move(done)](Napi::Env jsEnv, NativeFailure const* failure) {
        Napi::HandleScope scope(jsEnv);
        if (done) done();
        if (failure) {
          deferred->Reject(CodedError(jsEnv, failure->code, failure->message).Value());
          return;
        }
        try {
          deferred->Resolve(value ? value(jsEnv) : jsEnv.Undefined());
        } catch (Napi::Error const& e) {
          deferred->Reject(e.Value());
        }
      },
      owns);
  return deferred->Promise();
}
}  // namespace

Napi::Promise WhenComplete(Napi::Env env, cudaStream_t stream, CompletionQueue::OffThread offThread,
                           std::function<Napi::Value(Napi::Env)> value, std::function<void()> done) {
  CudaApi& cuda = CudaApi::Get();
  cudaEvent_t event = nullptr;
  CheckCuda(cuda.cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  cudaError_t e = cuda.cudaEventRecord(event, stream);
  if (e != cudaSuccess) {
    cuda.cudaEventDestroy(event);
    CheckCuda(e, "cudaEventRecord");
  }
  try {
    return Settle(env, event, true, std::move(offThread), std::move(value), std::move(done));
  } catch (...) {
    cuda.cudaEventDestroy(event);
    throw;
  }
}

Napi::Promise WhenEventComplete(Napi::Env env, cudaEvent_t event, std::function<void()> done) {
  return Settle(env, event, false, nullptr, nullptr, std::move(done));
}

}  // namespace trt_refit
