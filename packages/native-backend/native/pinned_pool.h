// Page-locked (pinned) host memory for staging async copies. cudaHostAlloc costs milliseconds (and cudaFreeHost
// may synchronize the device), so blocks are pooled by power-of-two size class; at most kRetainBytes stay cached,
// the least recently released going first when a returning block needs the room.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>

namespace trt_refit {

class PinnedPool {
 public:
  // Copies larger than this are not staged (see device_buffer.cc): pinning gigabytes per call would cost more
  // than the pageable copy it saves.
  static constexpr size_t kMaxStagingBytes = size_t{64} << 20;
  static constexpr size_t kRetainBytes = size_t{512} << 20;
  static constexpr size_t kMinBlockBytes = size_t{64} << 10;

  struct Block {
    void* ptr = nullptr;
    size_t size = 0;
  };

  static PinnedPool& Get();

  // Throws NativeFailure when CUDA cannot pin that much.
  Block Acquire(size_t bytes);
  // Thread-safe; the block must not be in use by a pending copy.
  void Release(Block block) noexcept;
  size_t retainedBytes() const;

 private:
  PinnedPool() = default;
  mutable std::mutex mutex_;
  std::deque<Block> free_;  // oldest release first
  size_t retained_ = 0;
};

}  // namespace trt_refit
