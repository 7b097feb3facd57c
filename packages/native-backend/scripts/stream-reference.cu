// The C++ reference for scripts/stream-bench.mjs: the ideal file -> device pipeline, against which the streaming
// refit (OnnxParserRefitter + DeviceWeightsStreamer) is measured in the same run. For each tensor's byte range of
// the file, in order: a positioned read (pread, looped until complete) into one of two pinned buffers
// (cudaHostAlloc, portable) taken alternately, then cudaMemcpyAsync of that buffer to every device on one stream per
// device, so the copies of tensor i overlap the read of tensor i + 1; a buffer is read into again only once its
// copies to every device completed (an event per buffer and device). Device memory (one buffer per tensor and
// device) and the pinned buffers are allocated before the clock starts; the clock covers opening the file, every
// read and copy, and the final stream synchronisation.
//
//   nvcc -O2 -o stream-reference stream-reference.cu
//   stream-reference <file> <ranges file: "offset length" per line> <devices, e.g. 0 or 0,1> [warm-up runs] [runs]
//                    [reader threads, default 1]
//
// With T reader threads each tensor's read is split into T contiguous parts read in parallel (still one tensor at a
// time, still overlapped with the copies of the previous one): T = 1 is the pipeline as the issue states it; more
// threads measure how much faster the page cache can be read than by one thread.
//
// Prints one JSON line per timed run: {"run", "ms", "bytes" (file bytes read), "devices", "gbPerS" (file bytes /
// time), "deviceGbPerS" (bytes written to devices / time), "check" (first 8 bytes of the last tensor on each device
// equal the file's)}.
#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    cudaError_t e_ = (call);                                                                          \
    if (e_ != cudaSuccess) {                                                                          \
      std::printf("{\"error\":\"%s failed: %s\"}\n", #call, cudaGetErrorString(e_));                  \
      std::exit(1);                                                                                   \
    }                                                                                                 \
  } while (0)

struct Range {
  off_t offset;
  size_t length;
};

static bool ReadFully(int fd, void* dst, size_t n, off_t at) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t r = pread(fd, p, n, at);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    at += r;
  }
  return true;
}

// Reads [at, at + n) into dst with `threads` threads, each a contiguous part.
static bool ReadParallel(int fd, void* dst, size_t n, off_t at, int threads) {
  if (threads <= 1 || n < (size_t{1} << 20)) return ReadFully(fd, dst, n, at);
  std::vector<std::thread> pool;
  std::vector<char> ok(static_cast<size_t>(threads), 1);
  size_t const part = (n + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    size_t const from = part * t;
    if (from >= n) break;
    size_t const len = from + part > n ? n - from : part;
    pool.emplace_back([&, t, from, len] { ok[t] = ReadFully(fd, static_cast<char*>(dst) + from, len, at + static_cast<off_t>(from)); });
  }
  for (auto& th : pool) th.join();
  for (char k : ok)
    if (!k) return false;
  return true;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::printf("{\"error\":\"usage: stream-reference <file> <ranges> <devices> [warmup] [runs]\"}\n");
    return 2;
  }
  char const* path = argv[1];
  std::vector<Range> ranges;
  if (FILE* f = std::fopen(argv[2], "r")) {
    long long o = 0, l = 0;
    while (std::fscanf(f, "%lld %lld", &o, &l) == 2) ranges.push_back({static_cast<off_t>(o), static_cast<size_t>(l)});
    std::fclose(f);
  }
  if (ranges.empty()) {
    std::printf("{\"error\":\"no ranges in %s\"}\n", argv[2]);
    return 2;
  }
  std::vector<int> devices;
  for (char const* s = argv[3]; *s;) {
    devices.push_back(std::atoi(s));
    while (*s && *s != ',') ++s;
    if (*s == ',') ++s;
  }
  int const warmup = argc > 4 ? std::atoi(argv[4]) : 1;
  int const runs = argc > 5 ? std::atoi(argv[5]) : 1;
  int const threads = argc > 6 ? std::atoi(argv[6]) : 1;
  size_t const nd = devices.size();

  size_t largest = 0, total = 0;
  for (auto const& r : ranges) {
    largest = r.length > largest ? r.length : largest;
    total += r.length;
  }
  void* pinned[2] = {nullptr, nullptr};
  CHECK(cudaSetDevice(devices[0]));
  for (auto& p : pinned) CHECK(cudaHostAlloc(&p, largest, cudaHostAllocPortable));
  std::vector<cudaStream_t> streams(nd);
  std::vector<cudaEvent_t> done(2 * nd);  // done[b * nd + d]: the copy of pinned[b] to device d
  std::vector<std::vector<void*>> dev(nd, std::vector<void*>(ranges.size(), nullptr));
  for (size_t d = 0; d < nd; ++d) {
    CHECK(cudaSetDevice(devices[d]));
    CHECK(cudaStreamCreateWithFlags(&streams[d], cudaStreamNonBlocking));
    for (int b = 0; b < 2; ++b) CHECK(cudaEventCreateWithFlags(&done[b * nd + d], cudaEventDisableTiming));
    for (size_t i = 0; i < ranges.size(); ++i) CHECK(cudaMalloc(&dev[d][i], ranges[i].length));
  }

  for (int run = 0; run < warmup + runs; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      std::printf("{\"error\":\"cannot open %s\"}\n", path);
      return 1;
    }
    bool used[2] = {false, false};
    for (size_t i = 0; i < ranges.size(); ++i) {
      int const b = static_cast<int>(i % 2);
      // The buffer's previous copies must be done before it is overwritten.
      if (used[b])
        for (size_t d = 0; d < nd; ++d) CHECK(cudaEventSynchronize(done[b * nd + d]));
      if (!ReadParallel(fd, pinned[b], ranges[i].length, ranges[i].offset, threads)) {
        std::printf("{\"error\":\"short read at %lld\"}\n", static_cast<long long>(ranges[i].offset));
        return 1;
      }
      for (size_t d = 0; d < nd; ++d) {
        CHECK(cudaSetDevice(devices[d]));
        CHECK(cudaMemcpyAsync(dev[d][i], pinned[b], ranges[i].length, cudaMemcpyHostToDevice, streams[d]));
        CHECK(cudaEventRecord(done[b * nd + d], streams[d]));
      }
      used[b] = true;
    }
    for (size_t d = 0; d < nd; ++d) CHECK(cudaStreamSynchronize(streams[d]));
    close(fd);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (run < warmup) continue;
    // The last tensor is still in the pinned buffer it was read into: compare its first bytes with each device's.
    bool ok = true;
    size_t const last = ranges.size() - 1;
    size_t const n = ranges[last].length < 8 ? ranges[last].length : 8;
    for (size_t d = 0; d < nd; ++d) {
      unsigned char got[8] = {0};
      CHECK(cudaSetDevice(devices[d]));
      CHECK(cudaMemcpy(got, dev[d][last], n, cudaMemcpyDeviceToHost));
      ok = ok && std::memcmp(got, pinned[last % 2], n) == 0;
    }
    std::printf("{\"run\":%d,\"ms\":%.2f,\"bytes\":%zu,\"devices\":%zu,\"threads\":%d,\"gbPerS\":%.3f,\"deviceGbPerS\":%.3f,\"check\":%s}\n",
                run - warmup, ms, total, nd, threads, total / ms / 1e6, total * nd / ms / 1e6, ok ? "true" : "false");
    std::fflush(stdout);
  }
  return 0;
}
