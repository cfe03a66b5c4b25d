// Fast Walsh-Hadamard transform (Sylvester / natural order) over the rows of a C-contiguous matrix, in place.
//
// Part of lowrank_la (BSD-3-Clause). Compiled at run time by CuPy (NVRTC, through cupy.RawModule), loaded by
// lowrank_la/_kernels/fwht.py; no host headers are included.
//
// fwht_block_<t>_e<LOG_E>(x, log_d, scale, aligned)
//     One thread block per row of length d = 2^log_d <= 2^15, d >> LOG_E threads, each holding E = 2^LOG_E
//     contiguous values in registers. Levels h < E run inside a thread, the next five levels across the lanes of
//     a warp (__shfl_xor_sync), and the remaining (cross-warp) levels after one exchange through shared memory
//     ((d + d/32) elements of dynamic shared memory, padded against bank conflicts), after which every thread
//     holds whole groups of values that differ only in the warp index. At most 1024 threads (float) or 512
//     (double, whose E = 32 variant needs about 108 registers); the host launches within these bounds. The result times `scale` is written
//     straight to global memory: one global read and one global write per element.
// fwht_pass_<t>(x, n_pairs, log_d, log_h, scale)
//     One radix-2 level h = 2^log_h over every row (rows * d / 2 butterflies, grid-stride loop), for d too large
//     for one block: the caller first transforms contiguous sub-blocks with fwht_block, then runs these passes.
//
// <t> is f32 (float) or f64 (double). All arithmetic is in the input precision.

// Vectorised loads and stores of a thread's E contiguous values (16-byte transactions) when the row is aligned.
template <int E>
__device__ __forceinline__ void load_vec(const float* __restrict__ src, float (&v)[E], bool aligned)
{
    if (E % 4 == 0 && aligned) {
#pragma unroll
        for (int k = 0; k < E / 4; ++k) {
            const float4 q = reinterpret_cast<const float4*>(src)[k];
            v[4 * k] = q.x;
            v[4 * k + 1] = q.y;
            v[4 * k + 2] = q.z;
            v[4 * k + 3] = q.w;
        }
    } else {
#pragma unroll
        for (int k = 0; k < E; ++k) {
            v[k] = src[k];
        }
    }
}

template <int E>
__device__ __forceinline__ void load_vec(const double* __restrict__ src, double (&v)[E], bool aligned)
{
    if (E % 2 == 0 && aligned) {
#pragma unroll
        for (int k = 0; k < E / 2; ++k) {
            const double2 q = reinterpret_cast<const double2*>(src)[k];
            v[2 * k] = q.x;
            v[2 * k + 1] = q.y;
        }
    } else {
#pragma unroll
        for (int k = 0; k < E; ++k) {
            v[k] = src[k];
        }
    }
}

template <int E>
__device__ __forceinline__ void store_vec(float* __restrict__ dst, const float (&v)[E], float scale, bool aligned)
{
    if (E % 4 == 0 && aligned) {
#pragma unroll
        for (int k = 0; k < E / 4; ++k) {
            float4 q;
            q.x = v[4 * k] * scale;
            q.y = v[4 * k + 1] * scale;
            q.z = v[4 * k + 2] * scale;
            q.w = v[4 * k + 3] * scale;
            reinterpret_cast<float4*>(dst)[k] = q;
        }
    } else {
#pragma unroll
        for (int k = 0; k < E; ++k) {
            dst[k] = v[k] * scale;
        }
    }
}

template <int E>
__device__ __forceinline__ void store_vec(double* __restrict__ dst, const double (&v)[E], double scale, bool aligned)
{
    if (E % 2 == 0 && aligned) {
#pragma unroll
        for (int k = 0; k < E / 2; ++k) {
            double2 q;
            q.x = v[2 * k] * scale;
            q.y = v[2 * k + 1] * scale;
            reinterpret_cast<double2*>(dst)[k] = q;
        }
    } else {
#pragma unroll
        for (int k = 0; k < E; ++k) {
            dst[k] = v[k] * scale;
        }
    }
}

// Radix-2 butterflies between register k and k + h, for the levels h = 1, 2, ... below `limit` (limit <= E).
template <typename T, int E>
__device__ __forceinline__ void register_levels(T (&v)[E], int limit)
{
#pragma unroll
    for (int h = 1; h < E; h <<= 1) {
        if (h < limit) {
#pragma unroll
            for (int k = 0; k < E; ++k) {
                if ((k & h) == 0) {
                    const T a = v[k];
                    const T b = v[k + h];
                    v[k] = a + b;
                    v[k + h] = a - b;
                }
            }
        }
    }
}

// Shared-memory index with one element of padding per 32, so that neither access pattern has bank conflicts.
__device__ __forceinline__ int padded(int i)
{
    return i + (i >> 5);
}

template <typename T, int LOG_E>
__device__ __forceinline__ void fwht_block_impl(T* __restrict__ x, int log_d, T scale, int aligned)
{
    constexpr int E = 1 << LOG_E;
    extern __shared__ __align__(16) unsigned char fwht_smem_raw[];
    T* smem = reinterpret_cast<T*>(fwht_smem_raw);

    const int log_nt = log_d - LOG_E;  // threads per row: nt = 2^log_nt = blockDim.x
    const int nt = 1 << log_nt;
    const int t = threadIdx.x;
    const long long d = 1LL << log_d;
    T* row = x + static_cast<long long>(blockIdx.x) * d;

    T v[E];
    load_vec<E>(row + t * E, v, aligned != 0);

    // 1. levels inside a thread: h = 1 .. E/2
    register_levels<T, E>(v, E);

    // 2. levels across the lanes of a warp: h = E .. 16 E
    const int lane = t & 31;
    const int log_lanes = log_nt < 5 ? log_nt : 5;
    const unsigned mask = nt >= 32 ? 0xffffffffu : ((1u << nt) - 1u);
    for (int m = 0; m < log_lanes; ++m) {
        const int bit = 1 << m;
        const bool upper = (lane & bit) != 0;
#pragma unroll
        for (int k = 0; k < E; ++k) {
            const T p = __shfl_xor_sync(mask, v[k], bit);
            v[k] = upper ? p - v[k] : v[k] + p;
        }
    }

    if (log_nt <= 5) {
        store_vec<E>(row + t * E, v, scale, aligned != 0);
        return;
    }

    // 3. levels across warps: element i = c + w * 32E with c < 32E (thread bits below the warp bits) and w the
    //    warp index. After the exchange, thread t holds the groups c = t + j * nt (j < E / nw), all nw values of
    //    each, in register q = j * nw + w; the butterflies between warps become register butterflies.
    const int log_nw = log_nt - 5;  // requires nw <= E (the host picks E so)
    const int nw = 1 << log_nw;
    const int span = 32 * E;
#pragma unroll
    for (int k = 0; k < E; ++k) {
        smem[padded(t * E + k)] = v[k];
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < E; ++q) {
        const int c = t + (q >> log_nw) * nt;
        const int w = q & (nw - 1);
        v[q] = smem[padded(c + w * span)];
    }
    register_levels<T, E>(v, nw);
#pragma unroll
    for (int q = 0; q < E; ++q) {
        const int c = t + (q >> log_nw) * nt;
        const int w = q & (nw - 1);
        row[c + w * span] = v[q] * scale;
    }
}

template <typename T>
__device__ __forceinline__ void fwht_pass_impl(T* __restrict__ x, long long n_pairs, int log_d, int log_h, T scale)
{
    const long long h = 1LL << log_h;
    const long long half = 1LL << (log_d - 1);
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long p = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; p < n_pairs; p += stride) {
        const long long r = p >> (log_d - 1);
        const long long q = p & (half - 1);
        const long long i = (r << log_d) + ((q >> log_h) << (log_h + 1)) + (q & (h - 1));
        const T a = x[i];
        const T b = x[i + h];
        x[i] = (a + b) * scale;
        x[i + h] = (a - b) * scale;
    }
}

#define FWHT_BLOCK(tname, T, MAXT, LOG_E)                                                                        \
    extern "C" __global__ void __launch_bounds__(MAXT) fwht_block_##tname##_e##LOG_E(                     \
        T* __restrict__ x, int log_d, T scale, int aligned)                                                  \
    {                                                                                                        \
        fwht_block_impl<T, LOG_E>(x, log_d, scale, aligned);                                                 \
    }

FWHT_BLOCK(f32, float, 1024, 0)
FWHT_BLOCK(f32, float, 1024, 1)
FWHT_BLOCK(f32, float, 1024, 2)
FWHT_BLOCK(f32, float, 1024, 3)
FWHT_BLOCK(f32, float, 1024, 4)
FWHT_BLOCK(f32, float, 1024, 5)
FWHT_BLOCK(f64, double, 512, 0)
FWHT_BLOCK(f64, double, 512, 1)
FWHT_BLOCK(f64, double, 512, 2)
FWHT_BLOCK(f64, double, 512, 3)
FWHT_BLOCK(f64, double, 512, 4)
FWHT_BLOCK(f64, double, 512, 5)

extern "C" __global__ void fwht_pass_f32(float* __restrict__ x, long long n_pairs, int log_d, int log_h,
                                         float scale)
{
    fwht_pass_impl<float>(x, n_pairs, log_d, log_h, scale);
}

extern "C" __global__ void fwht_pass_f64(double* __restrict__ x, long long n_pairs, int log_d, int log_h,
                                         double scale)
{
    fwht_pass_impl<double>(x, n_pairs, log_d, log_h, scale);
}
