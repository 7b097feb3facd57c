/*
 * A stand-in for libcublas.so.13 over the fake CUDA runtime (fake-cudart.c: "device" memory is host memory), with
 * the few functions the LoRA merge calls, so the addon's merge path runs on a machine without a GPU:
 *
 *   cc -shared -fPIC -O2 -o /tmp/libcublas-fake.so scripts/fake-cublas.c
 *   TRT_REFIT_CUDART_PATH=/tmp/libcudart-fake.so TRT_REFIT_CUBLAS_PATH=/tmp/libcublas-fake.so node ...
 *
 * cublasGemmEx computes column-major C = alpha·op(A)·op(B) + beta·C for FP32 A, B, C and an FP32 compute type only
 * (CUBLAS_STATUS_NOT_SUPPORTED otherwise), accumulating in FP32 in the order of k; with beta 0, C is not read.
 * It checks what cuBLAS checks (leading dimensions, a created handle) and records the math mode and stream.
 */
#include <stdlib.h>
#include <string.h>

typedef struct { void* stream; int mathMode; int gemms; } Handle;

int cublasCreate_v2(Handle** h) { *h = calloc(1, sizeof(Handle)); return *h ? 0 : 3; }
int cublasDestroy_v2(Handle* h) { if (!h) return 1; free(h); return 0; }
int cublasSetStream_v2(Handle* h, void* s) { if (!h) return 1; h->stream = s; return 0; }
int cublasSetMathMode(Handle* h, int mode) { if (!h) return 1; h->mathMode = mode; return 0; }
int cublasGetVersion_v2(Handle* h, int* v) { (void)h; *v = 130000; return 0; }

enum { OP_N = 0, OP_T = 1, R_32F = 0, COMPUTE_32F = 68, COMPUTE_32F_PEDANTIC = 69 };

int cublasGemmEx(Handle* h, int transa, int transb, int m, int n, int k, const void* alphaP, const void* A, int atype,
                 int lda, const void* B, int btype, int ldb, const void* betaP, void* C, int ctype, int ldc,
                 int computeType, int algo) {
  (void)algo;
  if (!h) return 1;
  if (atype != R_32F || btype != R_32F || ctype != R_32F || (computeType != COMPUTE_32F && computeType != COMPUTE_32F_PEDANTIC)) return 15;
  if (m < 0 || n < 0 || k < 0 || (transa != OP_N && transa != OP_T) || (transb != OP_N && transb != OP_T)) return 7;
  int const arows = transa == OP_N ? m : k, brows = transb == OP_N ? k : n;
  if (lda < (arows > 1 ? arows : 1) || ldb < (brows > 1 ? brows : 1) || ldc < (m > 1 ? m : 1)) return 7;
  float const alpha = *(const float*)alphaP, beta = *(const float*)betaP;
  const float* a = A;
  const float* b = B;
  float* c = C;
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) {
      float acc = 0.0f;
      for (int p = 0; p < k; p++) {
        float const x = transa == OP_N ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
        float const y = transb == OP_N ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
        acc += x * y;
      }
      float* dst = &c[(size_t)j * ldc + i];
      *dst = beta == 0.0f ? alpha * acc : alpha * acc + beta * *dst;
    }
  }
  h->gemms++;
  return 0;
}
