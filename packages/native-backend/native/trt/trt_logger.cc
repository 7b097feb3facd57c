#include "trt/trt_logger.h"

#include "common.h"

namespace trt_refit {


namespace {
constexpr size_t kMaxMessageBytes = 4096;

}  // namespace

Napi::Array Records(Napi::Env env, std::vector<std::pair<int32_t, std::string>> const& records, size_t dropped,
                    int32_t droppedCode) {
  Napi::Array out = Napi::Array::New(env, records.size() + (dropped ? 1 : 0));
  uint32_t i = 0;
  if (dropped) {
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, droppedCode));
    r.Set(1u, Napi::String::New(env, Concat(dropped, " messages were dropped (queue full)")));
    out.Set(i++, r);
  }
  for (auto const& [code, text] : records) {
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, code));
    r.Set(1u, Napi::String::New(env, text));
    out.Set(i++, r);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ DrainQueue

DrainQueue::DrainQueue(Napi::Env env, Napi::Function notify, size_t capacity) : capacity_(capacity) {
  tsfn_ = SafeTsfn(env, notify, "trt-refit:log");
}

void DrainQueue::Push(int32_t code, char const* text) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  if (records_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  std::string message = text ? text : "";
  if (message.size() > kMaxMessageBytes) message.resize(kMaxMessageBytes);
  records_.emplace_back(code, std::move(message));
  if (!notifyPending_) {
    notifyPending_ = tsfn_.Call();
  }
}

std::vector<std::pair<int32_t, std::string>> DrainQueue::Take(size_t& dropped) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<int32_t, std::string>> out(std::make_move_iterator(records_.begin()),
                                                   std::make_move_iterator(records_.end()));
  records_.clear();
  dropped = dropped_;
  dropped_ = 0;
  notifyPending_ = false;
  return out;
}

void DrainQueue::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  records_.clear();
  tsfn_.Release();
}

// ---------------------------------------------------------------------------------------------- NativeLogger

void NativeLogger::log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept {
  if (static_cast<int32_t>(severity) > minSeverity_.load()) return;
  queue_->Push(static_cast<int32_t>(severity), msg);
}

// --------------------------------------------------------------------------------------- NativeErrorRecorder

int32_t NativeErrorRecorder::getNbErrors() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int32_t>(errors_.size());
}

nvinfer1::ErrorCode NativeErrorRecorder::getErrorCode(int32_t errorIdx) const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= errors_.size()) return nvinfer1::ErrorCode::kINVALID_ARGUMENT;
  return errors_[static_cast<size_t>(errorIdx)].first;
}

nvinfer1::IErrorRecorder::ErrorDesc NativeErrorRecorder::getErrorDesc(int32_t errorIdx) const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (errorIdx < 0 || static_cast<size_t>(errorIdx) >= errors_.size()) return "error index out of range";
  return errors_[static_cast<size_t>(errorIdx)].second.c_str();
}

bool NativeErrorRecorder::hasOverflowed() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return overflowed_;
}

void NativeErrorRecorder::clear() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  errors_.clear();
  overflowed_ = false;
}

bool NativeErrorRecorder::reportError(nvinfer1::ErrorCode val, ErrorDesc desc) noexcept {
  try {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (errors_.size() >= capacity_) {
        overflowed_ = true;
      } else {
        std::string text = desc ? desc : "";
        if (text.size() > kMAX_DESC_LENGTH) text.resize(kMAX_DESC_LENGTH);
        errors_.emplace_back(val, std::move(text));
      }
    }
    queue_->Push(static_cast<int32_t>(val), desc);
  } catch (...) {
    // Out of memory while reporting: nothing sensible is left to do, and TensorRT requires noexcept.
  }
  // Never fatal: TensorRT decides itself whether the call fails, and says so through its return value.
  return false;
}

// ---------------------------------------------------------------------------------------------------- LogSink

void LogSink::Init(Napi::Env env, AddonData& data) {
  data.Register("LogSink", DefineClass(env, "LogSink",
                                       {
                                           InstanceMethod<&LogSink::Drain>("drain"),
                                           InstanceMethod<&LogSink::SetMinSeverity>("setMinSeverity"),
                                           InstanceMethod<&LogSink::Close>("close"),
                                       }));
}

LogSink& LogSink::From(Napi::Env env, Napi::Value v, char const* parameter) {
  TRT_REFIT_TYPE_CHECK(v.IsObject() && v.As<Napi::Object>().InstanceOf(AddonData::Of(env).Constructor(env, "LogSink")),
                       env, parameter, " must be a LogSink");
  return *Unwrap(v.As<Napi::Object>());
}

LogSink::LogSink(Napi::CallbackInfo const& info) : Napi::ObjectWrap<LogSink>(info) {
  Napi::Env env = info.Env();
  TRT_REFIT_TYPE_CHECK(info[0].IsFunction(), env, "notify must be a function");
  int32_t minSeverity = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 2;
  size_t capacity = info[2].IsNumber() ? SizeArg(env, info[2], "capacity") : 10000;
  queue_ = std::make_shared<DrainQueue>(env, info[0].As<Napi::Function>(), capacity);
  logger_ = new NativeLogger(queue_, minSeverity);  // never deleted, see NativeLogger
}

LogSink::~LogSink() { queue_->Close(); }

Napi::Value LogSink::Drain(Napi::CallbackInfo const& info) {
  size_t dropped = 0;
  auto records = queue_->Take(dropped);
  return Records(info.Env(), records, dropped, static_cast<int32_t>(nvinfer1::ILogger::Severity::kWARNING));
}

Napi::Value LogSink::SetMinSeverity(Napi::CallbackInfo const& info) {
  TRT_REFIT_TYPE_CHECK(info[0].IsNumber(), info.Env(), "severity must be a number");
  logger_->setMinSeverity(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value LogSink::Close(Napi::CallbackInfo const& info) {
  queue_->Close();
  return info.Env().Undefined();
}

}  // namespace trt_refit
