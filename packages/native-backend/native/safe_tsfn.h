// A thread-safe function that tolerates the environment tearing it down first. Node finalizes thread-safe
// functions during shutdown before (or while) our own cleanup runs; calling Release or NonBlockingCall on a
// finalized one is a use-after-free, so every use checks a flag that the finalizer sets.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>
#include <utility>

namespace trt_refit {

class SafeTsfn {
 public:
  SafeTsfn() = default;
  // Created un-referenced: an idle function must not keep the process alive.
  SafeTsfn(Napi::Env env, Napi::Function fn, char const* name) : state_(std::make_shared<State>()) {
    auto* finalizerData = new std::shared_ptr<State>(state_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, fn, name, 0, 1,
                                          [](Napi::Env, std::shared_ptr<State>* s) {
                                            {
                                              std::lock_guard<std::mutex> lock((*s)->mutex);
                                              (*s)->closed = true;
                                            }
                                            delete s;
                                          },
                                          finalizerData);
    tsfn_.Unref(env);
  }

  // Any thread. False when the function is closed (released or finalized).
  template <typename Callback>
  bool Call(Callback&& callback) {
    if (!state_) return false;
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return false;
    return tsfn_.NonBlockingCall(std::forward<Callback>(callback)) == napi_ok;
  }
  bool Call() {
    if (!state_) return false;
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return false;
    return tsfn_.NonBlockingCall() == napi_ok;
  }

  // JS thread only.
  void Ref(Napi::Env env) {
    if (state_ && !IsClosed()) tsfn_.Ref(env);
  }
  void Unref(Napi::Env env) {
    if (state_ && !IsClosed()) tsfn_.Unref(env);
  }

  // Idempotent; the finalizer runs later on the JS thread.
  void Release() {
    if (!state_) return;
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->closed) return;
    state_->closed = true;
    tsfn_.Release();
  }

 private:
  struct State {
    std::mutex mutex;
    bool closed = false;
  };
  bool IsClosed() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->closed;
  }
  std::shared_ptr<State> state_;
  Napi::ThreadSafeFunction tsfn_;
};

}  // namespace trt_refit
