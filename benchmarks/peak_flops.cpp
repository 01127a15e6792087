// Peak float32 FMA throughput probe, built and run by benchmarks/peak_flops.py.
//
// Build: g++ -O3 -march=native -pthread peak_flops.cpp -o peak_flops
// Run:   ./peak_flops THREADS [ITERS]   -> one line per ISA: "avx2 GFLOPS" ("avx512 GFLOPS")
//
// Each thread runs NACC independent FMA chains a = a * m + c held in registers (no memory
// traffic). NACC must cover latency x issue width (Zen 3: 4 cycles x 2 FMA pipes = 8 chains)
// and fit in the register file: 12 accumulators + 2 constants = 14 of the 16 ymm registers.
// FLOPs counted: 2 per lane per FMA (8 lanes for __m256, 16 for __m512). The AVX-512
// variant exists only when -march=native defines __AVX512F__, i.e. when both the compiler
// and this CPU support it. Each measurement is the median of 7 timed runs of all threads.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kAcc256 = 12;

__attribute__((noinline)) float chains256(long iters, float seed) {
    __m256 a[kAcc256];
    for (int i = 0; i < kAcc256; ++i) a[i] = _mm256_set1_ps(seed + 0.001f * i);
    const __m256 m = _mm256_set1_ps(0.999999f);
    const __m256 c = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
        for (int i = 0; i < kAcc256; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
    }
    __m256 s = a[0];
    for (int i = 1; i < kAcc256; ++i) s = _mm256_add_ps(s, a[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float r = 0.0f;
    for (float v : lanes) r += v;
    return r;
}

#ifdef __AVX512F__
constexpr int kAcc512 = 24;  // 24 + 2 of the 32 zmm registers

__attribute__((noinline)) float chains512(long iters, float seed) {
    __m512 a[kAcc512];
    for (int i = 0; i < kAcc512; ++i) a[i] = _mm512_set1_ps(seed + 0.001f * i);
    const __m512 m = _mm512_set1_ps(0.999999f);
    const __m512 c = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
        for (int i = 0; i < kAcc512; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < kAcc512; ++i) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

// Runs f(iters) on `threads` threads at once; the median GFLOP/s of 7 runs after a warm-up.
template <class F>
double measure(F f, int threads, long iters, double flops_per_iter) {
    std::vector<float> sink(threads, 0.0f);
    auto once = [&](long n) {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&, t] { sink[t] += f(n, 1.0f + t); });
        for (auto& th : pool) th.join();
    };
    once(iters / 4);
    std::vector<double> rates;
    for (int rep = 0; rep < 7; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        once(iters);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(flops_per_iter * static_cast<double>(iters) * threads / s / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    float total = 0.0f;
    for (float v : sink) total += v;
    if (total == 12345.0f) std::printf("#\n");  // keeps the chains live
    return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    long iters = argc > 2 ? std::atol(argv[2]) : 10000000L;
    if (threads < 1 || iters < 1) {
        std::fprintf(stderr, "usage: peak_flops THREADS [ITERS]\n");
        return 2;
    }
    std::printf("avx2 %.2f\n", measure(chains256, threads, iters, 2.0 * 8 * kAcc256));
#ifdef __AVX512F__
    std::printf("avx512 %.2f\n", measure(chains512, threads, iters, 2.0 * 16 * kAcc512));
#endif
    return 0;
}
