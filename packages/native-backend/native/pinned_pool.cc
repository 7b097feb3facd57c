#include "pinned_pool.h"

#include <iterator>
#include <vector>

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
    // Most recently released first: its pages are the likeliest to be warm.
    for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
      if (it->size != size) continue;
      Block b = *it;
      free_.erase(std::next(it).base());
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
  std::vector<void*> evicted;
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (block.size > kRetainBytes) {
      evicted.push_back(block.ptr);
    } else {
      while (retained_ + block.size > kRetainBytes && !free_.empty()) {
        evicted.push_back(free_.front().ptr);
        retained_ -= free_.front().size;
        free_.pop_front();
      }
      free_.push_back(block);
      retained_ += block.size;
    }
  } catch (...) {
    evicted.push_back(block.ptr);  // out of memory for the bookkeeping: just free it
  }
  for (void* p : evicted) CudaApi::Get().cudaFreeHost(p);
}

size_t PinnedPool::retainedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return retained_;
}

}  // namespace trt_refit
