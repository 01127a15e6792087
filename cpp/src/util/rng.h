// rng.h: a stateless, counter-based random number generator.
//
// uniform(key, i) hashes (key, i) to a float in [0, 1): the value depends only on
// the key and the counter, so any thread can generate element i on its own and the
// result never depends on the thread count or the order of evaluation.
//
// The hash is splitmix64's finaliser (Steele, Lea, Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014): the counter is spread by the
// golden-ratio increment and mixed, exactly as splitmix64 advances its stream.
// The user seed is mixed once into a key first so that nearby seeds (0, 1, 2, ...)
// give unrelated streams.
#pragma once

#include <cstdint>

namespace fastnn::rng {

// splitmix64's bijective finaliser: every output bit depends on every input bit.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// The stream key for a user seed (compute once per kernel call).
inline std::uint64_t key_for(std::uint64_t seed) { return mix64(seed + kGolden); }

// 64 random bits for counter i of the stream `key`.
inline std::uint64_t bits(std::uint64_t key, std::uint64_t i) { return mix64(key + (i + 1) * kGolden); }

// A float in [0, 1) with 24 random bits: exactly representable, so comparisons
// against a float threshold are exact.
inline float uniform(std::uint64_t key, std::uint64_t i) {
  return static_cast<float>(bits(key, i) >> 40) * 0x1.0p-24f;
}

}  // namespace fastnn::rng
