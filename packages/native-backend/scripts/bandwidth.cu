// Baseline for device-check.mjs: host<->device copy throughput of plain cudaMemcpy, pageable and pinned, best of
// 5, for the size given (bytes). Prints one JSON object. Build: nvcc -O2 -o bandwidth bandwidth.cu
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

static double Best(void* dst, void const* src, size_t n, cudaMemcpyKind kind) {
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (cudaMemcpy(dst, src, n, kind) != cudaSuccess) return -1;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms < best) best = ms;
  }
  return n / (best / 1000) / 1e9;
}

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (size_t{256} << 20);
  void* dev = nullptr;
  void* pinned = nullptr;
  void* pageable = std::malloc(n);
  if (!pageable || cudaMalloc(&dev, n) != cudaSuccess || cudaMallocHost(&pinned, n) != cudaSuccess) {
    std::printf("{\"error\":\"allocation failed\"}\n");
    return 1;
  }
  std::memset(pageable, 1, n);
  std::memset(pinned, 1, n);
  std::printf("{\"bytes\":%zu,\"h2dPageable\":%.2f,\"h2dPinned\":%.2f,\"d2hPageable\":%.2f,\"d2hPinned\":%.2f}\n", n,
              Best(dev, pageable, n, cudaMemcpyHostToDevice), Best(dev, pinned, n, cudaMemcpyHostToDevice),
              Best(pageable, dev, n, cudaMemcpyDeviceToHost), Best(pinned, dev, n, cudaMemcpyDeviceToHost));
  return 0;
}
