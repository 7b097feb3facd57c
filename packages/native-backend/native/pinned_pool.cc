#include "pinned_pool.h"

#include "common.h"
#include "cuda_api.h"

namespace trt_refit {

namespace {
size_t SizeClass(size_t bytes) {
  size_t s = PinnedPool::kMinBlockBytes;
  while (s < bytes) s <<= 1;
  return s;
}
}  // namespace

PinnedPool& PinnedPool::Get() {
  // Leaked on purpose: blocks can come back from the completion thread during shutdown.
  static PinnedPool* pool = new PinnedPool();
  return *pool;
}

PinnedPool::Block PinnedPool::Acquire(size_t bytes) {
  size_t const size = SizeClass(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end()) {
      Block b{it->second, size};
      free_.erase(it);
      retained_ -= size;
      return b;
    }
  }
  void* p = nullptr;
  CheckCuda(CudaApi::Get().cudaHostAlloc(&p, size, cudaHostAllocPortable), "cudaHostAlloc (staging)");
  return {p, size};
}

void PinnedPool::Release(Block block) noexcept {
  if (!block.ptr) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (retained_ + block.size <= kRetainBytes) {
      free_.emplace(block.size, block.ptr);
      retained_ += block.size;
      return;
    }
  }
  CudaApi::Get().cudaFreeHost(block.ptr);
}

size_t PinnedPool::retainedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return retained_;
}

}  // namespace trt_refit
