/*
 * A stand-in for libcudart.so.13 backed by host memory, so the addon's CUDA paths (completion thread, staging,
 * deferred frees, finalizers, worker threads) can be exercised on a machine without a GPU:
 *
 *   cc -shared -fPIC -O2 -I/usr/local/cuda/include -o /tmp/libcudart-fake.so scripts/fake-cudart.c -lpthread
 *   TRT_REFIT_CUDART_PATH=/tmp/libcudart-fake.so node --expose-gc scripts/device-check.mjs --cycles 2000
 *
 * Copies happen at enqueue time (stream order is call order); each recorded event reports "not ready" to its first
 * three queries, so the addon's polling is exercised. Not a model of GPU timing: throughput figures are meaningless.
 *
 * FAKE_CUDA_DEVICES=N (default 1) makes N devices. The current device is per thread, as in CUDA; allocations,
 * streams and events belong to the device current when they were made, and the fake is strict where CUDA is:
 * recording an event on another device's stream fails (cudaErrorInvalidResourceHandle), and so does an async copy
 * into memory of one device on a stream of another, or one enqueued while another device is current.
 *
 * cudaLibraryLoadData ignores the PTX it is given and hands out the LoRA merge's two kernels by name
 * (trt_refit_lora_add_f16 / _bf16, see native/lora_kernels.cu); cudaLaunchKernel runs them on the host, with the
 * same rounding (IEEE round-to-nearest-even). FAKE_CUDA_NO_LIBRARY=1 hides the cudaLibrary* functions' success
 * (cudaLibraryLoadData fails), to test that path.
 */
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct Block { void* p; size_t n; int pinned; int device; struct Block* next; } Block;
static __thread int current;
static int devices(void) { const char* e = getenv("FAKE_CUDA_DEVICES"); int n = e ? atoi(e) : 1; return n > 0 ? n : 1; }
typedef struct { int device; } Stream;
static Block* blocks;
static size_t deviceBytes;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const size_t kTotal = (size_t)80 << 30;

static void add(void* p, size_t n, int pinned) {
  Block* b = malloc(sizeof *b);
  b->p = p; b->n = n; b->pinned = pinned; b->device = current;
  pthread_mutex_lock(&mu);
  b->next = blocks; blocks = b;
  if (!pinned) deviceBytes += n;
  pthread_mutex_unlock(&mu);
}
static int drop(void* p) {
  pthread_mutex_lock(&mu);
  for (Block** b = &blocks; *b; b = &(*b)->next) {
    if ((*b)->p == p) { Block* d = *b; *b = d->next; if (!d->pinned) deviceBytes -= d->n; pthread_mutex_unlock(&mu); free(d); return 1; }
  }
  pthread_mutex_unlock(&mu);
  return 0;
}
/* The device of the device allocation holding p, or -1. */
static int deviceOf(const void* p) {
  pthread_mutex_lock(&mu);
  for (Block* b = blocks; b; b = b->next) {
    if (!b->pinned && (const char*)p >= (char*)b->p && (const char*)p < (char*)b->p + b->n) { int d = b->device; pthread_mutex_unlock(&mu); return d; }
  }
  pthread_mutex_unlock(&mu);
  return -1;
}
static int find(const void* p) {
  pthread_mutex_lock(&mu);
  for (Block* b = blocks; b; b = b->next) {
    if ((const char*)p >= (char*)b->p && (const char*)p < (char*)b->p + b->n) { int r = b->pinned ? 1 : 2; pthread_mutex_unlock(&mu); return r; }
  }
  pthread_mutex_unlock(&mu);
  return 0;
}

const char* cudaGetErrorName(cudaError_t e) { return e == cudaErrorNotReady ? "cudaErrorNotReady" : e == cudaErrorMemoryAllocation ? "cudaErrorMemoryAllocation" : e ? "cudaErrorUnknown" : "cudaSuccess"; }
const char* cudaGetErrorString(cudaError_t e) { return e == cudaErrorMemoryAllocation ? "out of memory" : e ? "fake error" : "no error"; }
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
cudaError_t cudaRuntimeGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaDriverGetVersion(int* v) { *v = 13000; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { *n = devices(); return cudaSuccess; }
cudaError_t cudaGetDevice(int* d) { *d = current; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { if (d < 0 || d >= devices()) return cudaErrorInvalidDevice; current = d; return cudaSuccess; }
cudaError_t cudaDeviceGetAttribute(int* v, enum cudaDeviceAttr a, int d) { (void)a; (void)d; *v = 0; return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp* p, int d) {
  (void)d; memset(p, 0, sizeof *p); strcpy(p->name, "Fake CUDA device (host memory)");
  p->major = 9; p->totalGlobalMem = kTotal; p->multiProcessorCount = 1; return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) { pthread_mutex_lock(&mu); *f = kTotal - deviceBytes; pthread_mutex_unlock(&mu); *t = kTotal; return cudaSuccess; }
cudaError_t cudaMalloc(void** p, size_t n) {
  if (n > kTotal - deviceBytes) return cudaErrorMemoryAllocation;
  *p = malloc(n ? n : 1); if (!*p) return cudaErrorMemoryAllocation; add(*p, n, 0); return cudaSuccess;
}
cudaError_t cudaFree(void* p) { if (!p) return cudaSuccess; if (!drop(p)) return cudaErrorInvalidValue; free(p); return cudaSuccess; }
cudaError_t cudaMemcpy(void* d, const void* s, size_t n, enum cudaMemcpyKind k) { (void)k; memmove(d, s, n); return cudaSuccess; }
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, enum cudaMemcpyKind k, cudaStream_t st) {
  (void)k;
  int dd = deviceOf(d), sd = deviceOf(s), on = st ? ((Stream*)st)->device : current;
  if (on != current || (dd >= 0 && dd != on) || (sd >= 0 && sd != on)) return cudaErrorInvalidResourceHandle;
  memmove(d, s, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t st) { (void)st; memset(d, v, n); return cudaSuccess; }
cudaError_t cudaHostAlloc(void** p, size_t n, unsigned int f) { (void)f; *p = malloc(n ? n : 1); if (!*p) return cudaErrorMemoryAllocation; add(*p, n, 1); return cudaSuccess; }
cudaError_t cudaFreeHost(void* p) { if (!drop(p)) return cudaErrorInvalidValue; free(p); return cudaSuccess; }
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes* a, const void* p) {
  memset(a, 0, sizeof *a);
  int k = find(p);
  a->type = k == 1 ? cudaMemoryTypeHost : k == 2 ? cudaMemoryTypeDevice : cudaMemoryTypeUnregistered;
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int f) { (void)f; Stream* x = malloc(sizeof *x); x->device = current; *s = (cudaStream_t)x; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t s) { free(s); return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { (void)s; return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t s) { (void)s; return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int f) { (void)s; (void)e; (void)f; return cudaSuccess; }
typedef struct { int polls; int device; } Ev;
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int f) { (void)f; Ev* v = calloc(1, sizeof(Ev)); v->device = current; *e = (cudaEvent_t)v; return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { free(e); return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (s && ((Stream*)s)->device != ((Ev*)e)->device) return cudaErrorInvalidResourceHandle;
  __atomic_store_n(&((Ev*)e)->polls, 3, __ATOMIC_SEQ_CST); return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { __atomic_store_n(&((Ev*)e)->polls, 0, __ATOMIC_SEQ_CST); return cudaSuccess; }
cudaError_t cudaEventQuery(cudaEvent_t e) {
  Ev* v = (Ev*)e;
  if (__atomic_load_n(&v->polls, __ATOMIC_SEQ_CST) > 0) { __atomic_fetch_sub(&v->polls, 1, __ATOMIC_SEQ_CST); return cudaErrorNotReady; }
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) { (void)a; (void)b; *ms = 1.0f; return cudaSuccess; }

/* ---- the LoRA merge's kernels, on the host ---- */
typedef struct { const char* name; } FakeKernel;
static FakeKernel kAddF16 = {"trt_refit_lora_add_f16"}, kAddBf16 = {"trt_refit_lora_add_bf16"};
static int fakeLibrary;
cudaError_t cudaLibraryLoadData(cudaLibrary_t* lib, const void* code, enum cudaJitOption* o, void** ov, unsigned int no,
                                enum cudaLibraryOption* l, void** lv, unsigned int nl) {
  (void)o; (void)ov; (void)no; (void)l; (void)lv; (void)nl;
  if (getenv("FAKE_CUDA_NO_LIBRARY") || !code || !strstr((const char*)code, ".entry trt_refit_lora_add_f16")) return cudaErrorInvalidPtx;
  *lib = (cudaLibrary_t)&fakeLibrary;
  return cudaSuccess;
}
cudaError_t cudaLibraryGetKernel(cudaKernel_t* k, cudaLibrary_t lib, const char* name) {
  if (lib != (cudaLibrary_t)&fakeLibrary) return cudaErrorInvalidResourceHandle;
  if (!strcmp(name, kAddF16.name)) *k = (cudaKernel_t)&kAddF16;
  else if (!strcmp(name, kAddBf16.name)) *k = (cudaKernel_t)&kAddBf16;
  else return cudaErrorSymbolNotFound;
  return cudaSuccess;
}
static float bf16ToFloat(unsigned short h) { unsigned int u = (unsigned int)h << 16; float f; memcpy(&f, &u, 4); return f; }
static unsigned short floatToBf16(float f) {
  unsigned int u; memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40); /* NaN stays NaN */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (unsigned short)(u >> 16);
}
cudaError_t cudaLaunchKernel(const void* func, dim3 grid, dim3 block, void** args, size_t shared, cudaStream_t st) {
  (void)grid; (void)block; (void)shared;
  int on = st ? ((Stream*)st)->device : current;
  if (on != current) return cudaErrorInvalidResourceHandle;
  const void* base = *(const void**)args[0];
  const float* delta = *(const float**)args[1];
  void* out = *(void**)args[2];
  unsigned long long n = *(unsigned long long*)args[3];
  if (deviceOf(base) != on || deviceOf(delta) != on || deviceOf(out) != on) return cudaErrorIllegalAddress;
  if (func == (const void*)&kAddF16) {
    for (unsigned long long i = 0; i < n; i++) ((_Float16*)out)[i] = (_Float16)((float)((const _Float16*)base)[i] + delta[i]);
  } else if (func == (const void*)&kAddBf16) {
    for (unsigned long long i = 0; i < n; i++) ((unsigned short*)out)[i] = floatToBf16(bf16ToFloat(((const unsigned short*)base)[i]) + delta[i]);
  } else {
    return cudaErrorInvalidDeviceFunction;
  }
  return cudaSuccess;
}
