#include "trt/trt_execution_context.h"
#include "trt/trt_runtime.h"

#include <cstring>
#include <set>

#include "completion_queue.h"
#include "cuda_api.h"
#include "cuda_stream.h"
#include "pinned_pool.h"
#include "trt/trt_logger.h"

namespace trt_refit {

using nvinfer1::ICudaEngine;
using nvinfer1::IExecutionContext;
using nvinfer1::IRuntime;
using nvinfer1::ISerializationConfig;

// ------------------------------------------------------------------------------------------- ExecutionContext

void ExecutionContext::Init(Napi::Env env, AddonData& data) {
  data.Register(kName, DefineClass(env, kName, WithBase({InstanceMethod<&ExecutionContext::Execute>("execute")})));
}

ExecutionContext::~ExecutionContext() { ReleaseDeviceMemory(); }

void ExecutionContext::EnsureArena(size_t total) {
  CudaApi& cuda = CudaApi::Get();
  int device = 0;
  CheckCuda(cuda.cudaGetDevice(&device), "cudaGetDevice");
  if (arenaSize_ >= total && arenaDevice_ == device) return;
  if (arena_) {
    cuda.cudaSetDevice(arenaDevice_);
    cuda.cudaFree(arena_);
    arena_ = nullptr;
    arenaSize_ = 0;
  }
  CheckCuda(cuda.cudaSetDevice(device), "cudaSetDevice");
  CheckCuda(cuda.cudaMalloc(&arena_, total), "cudaMalloc (execution I/O)");
  arenaSize_ = total;
  arenaDevice_ = device;
}

void ExecutionContext::ReleaseDeviceMemory() noexcept {
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) return;
  if (arena_) {
    cuda.cudaSetDevice(arenaDevice_);
    cuda.cudaFree(arena_);
    arena_ = nullptr;
    arenaSize_ = 0;
  }
  if (ownStream_) {
    cuda.cudaStreamDestroy(ownStream_);
    ownStream_ = nullptr;
  }
}

Napi::Value ExecutionContext::Dispose(Napi::CallbackInfo const& info) {
  // A run in flight keeps the context and its memory; they go when it completes.
  if (running_) {
    disposeWhenDone_ = true;
  } else {
    ReleaseDeviceMemory();
  }
  engine_.reset();
  return TrtWrap::Dispose(info);
}

namespace {
struct IoTensor {
  std::string name;
  bool input = false;
  nvinfer1::DataType type{};
  std::vector<int64_t> dims;
  size_t bytes = 0;
  size_t offset = 0;
  ByteView host;
  uint8_t* staged = nullptr;  // output: where the device copy lands (pinned staging or the JS buffer itself)
};

size_t AlignUp(size_t n) { return (n + 255) & ~size_t{255}; }

// The engine's I/O for one execute(): each given input checked against the engine (name, shape set in the context,
// byte length), then every output with the shape the context infers from them.
std::vector<IoTensor> CollectBindings(Napi::Env env, IExecutionContext& ctx, ICudaEngine& engine, Napi::Value value) {
  std::vector<IoTensor> io;
  std::set<std::string> given;
  Napi::Array inputs = value.As<Napi::Array>();
  for (uint32_t i = 0; i < inputs.Length(); ++i) {
    Napi::Value v = inputs.Get(i);
    TRT_REFIT_TYPE_CHECK(v.IsObject(), env, "inputs[", i, "] must be an object");
    Napi::Object o = v.As<Napi::Object>();
    IoTensor t;
    t.input = true;
    t.name = NameArg(env, o.Get("name"), "inputs[].name");
    TRT_REFIT_TYPE_CHECK(engine.getTensorIOMode(t.name.c_str()) == nvinfer1::TensorIOMode::kINPUT, env, "\"", t.name,
                         "\" is not an input of the engine");
    TRT_REFIT_TYPE_CHECK(!engine.isShapeInferenceIO(t.name.c_str()), env, "input \"", t.name,
                         "\" is a shape tensor; shape tensors are not supported by execute()");
    TRT_REFIT_TYPE_CHECK(given.insert(t.name).second, env, "input \"", t.name, "\" is given twice");
    nvinfer1::Dims dims = DimsFromJs(env, o.Get("dims"), "inputs[].dims");
    int64_t volume = 1;
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      TRT_REFIT_RANGE_CHECK(dims.d[d] >= 0, env, "input \"", t.name, "\" has a negative dimension");
      volume *= dims.d[d];
      t.dims.push_back(dims.d[d]);
    }
    if (!ctx.setInputShape(t.name.c_str(), dims)) {
      throw Napi::RangeError::New(env, Concat("input \"", t.name, "\": TensorRT refused its shape (outside the optimization profile? see the logged errors)"));
    }
    t.type = engine.getTensorDataType(t.name.c_str());
    t.bytes = BytesFor(t.type, volume);
    t.host = BytesOf(env, o.Get("data"), "inputs[].data");
    TRT_REFIT_RANGE_CHECK(t.host.length == t.bytes, env, "input \"", t.name, "\" needs ", t.bytes, " bytes for its shape and type, received ", t.host.length);
    io.push_back(std::move(t));
  }
  int32_t n = engine.getNbIOTensors();
  for (int32_t i = 0; i < n; ++i) {
    char const* name = engine.getIOTensorName(i);
    auto mode = engine.getTensorIOMode(name);
    if (mode == nvinfer1::TensorIOMode::kINPUT) {
      TRT_REFIT_TYPE_CHECK(given.count(name) == 1, env, "input \"", name, "\" of the engine is missing");
      continue;
    }
    if (mode != nvinfer1::TensorIOMode::kOUTPUT) continue;
    IoTensor t;
    t.name = name;
    t.type = engine.getTensorDataType(name);
    nvinfer1::Dims dims = ctx.getTensorShape(name);
    int64_t volume = 1;
    for (int32_t d = 0; d < dims.nbDims; ++d) {
      if (dims.d[d] < 0) {
        throw CodedError(env, kCodeUnsupported, Concat("output \"", name, "\" has a data-dependent shape, which execute() does not support"));
      }
      volume *= dims.d[d];
      t.dims.push_back(dims.d[d]);
    }
    t.bytes = BytesFor(t.type, volume);
    io.push_back(std::move(t));
  }

  return io;
}

}  // namespace

// execute([{ name, data, dims }], stream | null): Promise<[{ name, dtype, dims, data: ArrayBuffer }]>. Inputs are
// copied to device memory, enqueueV3 runs on the stream (a private one when null), outputs come back through a
// pinned staging block when they fit in one.
Napi::Value ExecutionContext::Execute(Napi::CallbackInfo const& info) {
  Napi::Env env = info.Env();
  IExecutionContext& ctx = Live(env);
  if (running_) throw CodedError(env, kCodeInvalidState, "ExecutionContext is already executing; await the previous execute()");
  if (!engine_ || engine_->busy.load() > 0) {
    throw CodedError(env, kCodeInvalidState, "the engine is being refitted; await the refit before executing");
  }
  ICudaEngine& engine = *engine_->get();
  CudaApi& cuda = CudaApi::Get();
  if (!cuda.loaded()) throw CodedError(env, kCodeUnavailable, "the CUDA runtime is not loaded");
  TRT_REFIT_TYPE_CHECK(info[0].IsArray(), env, "inputs must be an array of { name, data, dims }");

  std::vector<IoTensor> io = CollectBindings(env, ctx, engine, info[0]);

  size_t total = 0;
  for (auto& t : io) {
    t.offset = total;
    total += AlignUp(t.bytes > 0 ? t.bytes : 1);
  }

  return Guarded(env, [&]() -> Napi::Value {
    EnsureArena(total);
    cudaStream_t stream = nullptr;
    if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
      stream = CudaStream::From(env, info[1], "stream").handle();
    } else {
      if (!ownStream_) CheckCuda(cuda.cudaStreamCreateWithFlags(&ownStream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
      stream = ownStream_;
    }
    auto* base = static_cast<uint8_t*>(arena_);
    for (auto& t : io) {
      if (!ctx.setTensorAddress(t.name.c_str(), base + t.offset)) {
        throw NativeFailure{kCodeExecutionFailed, Concat("setTensorAddress(\"", t.name, "\") failed (see the logged errors)")};
      }
      // Pageable sources: cudaMemcpyAsync returns once CUDA staged them, so the JS input may change afterwards.
      if (t.input && t.bytes > 0) {
        CheckCuda(cuda.cudaMemcpyAsync(base + t.offset, t.host.data, t.bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync (input)");
      }
    }
    if (!ctx.enqueueV3(stream)) {
      cuda.cudaStreamSynchronize(stream);
      throw NativeFailure{kCodeExecutionFailed, "IExecutionContext::enqueueV3 failed (see the logged errors)"};
    }

    // Outputs: JS ArrayBuffers now (on this thread), filled from a pinned block on the completion thread.
    auto outputs = std::make_shared<std::vector<Napi::ObjectReference>>();
    size_t outBytes = 0;
    for (auto& t : io)
      if (!t.input) outBytes += t.bytes;
    std::shared_ptr<PinnedPool::Block> staging;
    if (outBytes > 0 && outBytes <= PinnedPool::kMaxStagingBytes) {
      staging = std::shared_ptr<PinnedPool::Block>(new PinnedPool::Block(PinnedPool::Get().Acquire(outBytes)),
                                                   [](PinnedPool::Block* b) {
                                                     PinnedPool::Get().Release(*b);
                                                     delete b;
                                                   });
    }
    size_t stagingOffset = 0;
    auto copies = std::make_shared<std::vector<std::tuple<uint8_t*, uint8_t*, size_t>>>();
    for (auto& t : io) {
      if (t.input) continue;
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, t.bytes);
      outputs->push_back(Napi::Persistent(ab.As<Napi::Object>()));
      auto* dst = static_cast<uint8_t*>(ab.Data());
      if (t.bytes == 0) continue;
      if (staging) {
        auto* s = static_cast<uint8_t*>(staging->ptr) + stagingOffset;
        stagingOffset += t.bytes;
        CheckCuda(cuda.cudaMemcpyAsync(s, base + t.offset, t.bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync (output)");
        copies->emplace_back(dst, s, t.bytes);
      } else {
        CheckCuda(cuda.cudaMemcpyAsync(dst, base + t.offset, t.bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync (output)");
      }
    }

    running_ = true;
    Ref();
    auto self = handle_;
    auto engineHold = engine_;
    auto results = std::make_shared<std::vector<IoTensor>>();
    for (auto& t : io)
      if (!t.input) results->push_back(t);
    auto finish = [this, self, engineHold, staging]() mutable {
      running_ = false;
      staging.reset();
      if (disposeWhenDone_) ReleaseDeviceMemory();
      self.reset();
      engineHold.reset();
      Unref();
    };
    try {
      return WhenComplete(
          env, stream,
          [copies] {
            for (auto const& [dst, src, bytes] : *copies) std::memcpy(dst, src, bytes);
          },
          [outputs, results](Napi::Env e) -> Napi::Value {
            Napi::Array out = Napi::Array::New(e, results->size());
            for (size_t i = 0; i < results->size(); ++i) {
              IoTensor const& t = (*results)[i];
              Napi::Object o = Napi::Object::New(e);
              o.Set("name", t.name);
              o.Set("dtype", static_cast<int32_t>(t.type));
              Napi::Array dims = Napi::Array::New(e, t.dims.size());
              for (size_t d = 0; d < t.dims.size(); ++d) dims.Set(static_cast<uint32_t>(d), Napi::Number::New(e, static_cast<double>(t.dims[d])));
              o.Set("dims", dims);
              o.Set("data", (*outputs)[i].Value());
              out.Set(static_cast<uint32_t>(i), o);
            }
            return out;
          },
          finish);
    } catch (...) {
      cuda.cudaStreamSynchronize(stream);
      finish();
      throw;
    }
  });
}

}  // namespace trt_refit
