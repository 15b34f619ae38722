#pragma once
// Rng: a fast, reproducible, counter-based random number generator (Philox4x32-10, Salmon
// et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011). Its whole state is a
// 64-bit key (the seed), a 128-bit counter and a position in the current block of four
// words: cheap to save in a checkpoint and to restore exactly. The same seed gives the same
// words on every machine (fill_normal<float> takes its logarithms and sines a vector at a
// time, whose last bit may depend on the instruction set).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <string_view>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "vaelib/detail/parallel.hpp"
#include "vaelib/detail/simd.hpp"

namespace vaelib {

/// Everything needed to resume an Rng exactly (saved in checkpoints).
struct RngState {
  std::uint64_t seed = 0;
  std::uint64_t counter_low = 0;   // the 128-bit block counter
  std::uint64_t counter_high = 0;
  std::uint64_t position = 4;      // next unused word of the current block (4: none left)
  friend bool operator==(const RngState&, const RngState&) = default;
};

class Rng {
 public:
  using Block = std::array<std::uint32_t, 4>;

  explicit Rng(std::uint64_t seed = 0) { m_state.seed = seed; }

  /// The Philox4x32-10 bijection: 4 words of output for a counter under a key.
  static Block philox(Block counter, std::array<std::uint32_t, 2> key) {
    constexpr std::uint32_t m0 = 0xD2511F53, m1 = 0xCD9E8D57;      // round multipliers
    constexpr std::uint32_t w0 = 0x9E3779B9, w1 = 0xBB67AE85;      // Weyl key increments
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        key[0] += w0;
        key[1] += w1;
      }
      const std::uint64_t p0 = std::uint64_t{m0} * counter[0];
      const std::uint64_t p1 = std::uint64_t{m1} * counter[2];
      counter = {static_cast<std::uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<std::uint32_t>(p1),
                 static_cast<std::uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<std::uint32_t>(p0)};
    }
    return counter;
  }

  /// An independent generator for a named purpose (parameter initialisation of "gen/h1/w",
  /// dropout, ...): the key is a hash of this seed and the name; the counter starts at 0.
  Rng stream(std::string_view name) const {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ m_state.seed;  // FNV-1a over the name, then mixed
    for (char c : name) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    return Rng(mix(h));
  }

  std::uint32_t next_u32() {
    if (m_state.position >= 4) refill();
    return m_block[m_state.position++];
  }

  /// Fills `out` with the next out.size() words: exactly the words next_u32() would give, in
  /// the same order, but whole blocks are computed `lanes` counters at a time in a loop the
  /// compiler vectorises (the 32x32 -> 64-bit products become vector multiplies).
  /// Long fills are split over the BLAS's threads (detail/parallel.hpp): batch b of
  /// this call comes from the same counters whichever thread computes it.
  void fill_u32(std::span<std::uint32_t> out) {
    std::size_t i = 0;
    while (i < out.size() && m_state.position < 4) out[i++] = m_block[m_state.position++];
    const std::size_t batches = (out.size() - i) / (4 * lanes);
    if (batches > 0 && m_state.counter_low <= UINT64_MAX - batches * lanes) {
      std::uint32_t* dst = out.data() + i;
      const Rng start = *this;
      detail::parallel_for(batches, 64, [&](std::size_t first, std::size_t last) {
        Rng part = start;
        part.m_state.counter_low += first * lanes;
        for (std::size_t b = first; b < last; ++b) part.philox_lanes(dst + b * 4 * lanes);
      }, 1);
      m_state.counter_low += batches * lanes;
      i += batches * 4 * lanes;
    }
    while (i < out.size()) out[i++] = next_u32();
  }

  /// A copy of this generator after `words` more calls of next_u32() (this one unchanged):
  /// lets parts of one stream be drawn in parallel.
  Rng ahead(std::uint64_t words) const {
    Rng out = *this;
    out.skip(words);
    return out;
  }

  /// Moves past the next `words` words, as that many next_u32() calls would, in O(1).
  void skip(std::uint64_t words) {
    const std::uint64_t left_in_block = 4 - m_state.position;
    if (words < left_in_block) {
      m_state.position += words;
      return;
    }
    words -= left_in_block;
    const std::uint64_t blocks = words / 4, within = words % 4;
    const std::uint64_t low = m_state.counter_low + blocks;
    if (low < m_state.counter_low) ++m_state.counter_high;  // the 128-bit counter carries
    m_state.counter_low = low;
    m_state.position = 4;
    if (within > 0) {
      refill();
      m_state.position = within;
    }
  }

  std::uint64_t next_u64() {
    const std::uint64_t high = next_u32();
    return (high << 32) | next_u32();
  }

  /// Uniform in [0, 1): 24 random bits for float, 53 for double.
  template <class T>
  T uniform() {
    if constexpr (sizeof(T) <= 4)
      return static_cast<T>(next_u32() >> 8) * T(0x1.0p-24);
    else
      return static_cast<T>(next_u64() >> 11) * T(0x1.0p-53);
  }

  /// Uniform in [low, high).
  template <class T>
  T uniform(T low, T high) {
    return low + (high - low) * uniform<T>();
  }

  /// Standard normal (Box-Muller; uses two uniforms per pair, caches nothing: the state
  /// stays exactly the counter).
  template <class T>
  void fill_normal(std::span<T> out, T mean = T(0), T stddev = T(1)) {
#if VAELIB_SIMD
    if constexpr (std::is_same_v<T, float>) {
      fill_normal_vectorized(out, mean, stddev);
      return;
    }
#endif
    std::size_t i = 0;
    for (; i + 1 < out.size(); i += 2) {
      const auto [a, b] = normal_pair<T>();
      out[i] = mean + stddev * a;
      out[i + 1] = mean + stddev * b;
    }
    if (i < out.size()) out[i] = mean + stddev * normal_pair<T>().first;
  }

  template <class T>
  void fill_uniform(std::span<T> out, T low = T(0), T high = T(1)) {
    for (T& v : out) v = uniform<T>(low, high);
  }

  template <class T>
  T normal() {
    return normal_pair<T>().first;
  }

  /// Two independent standard normals from two uniforms (Box-Muller): the pair fill_normal
  /// writes at each even index.
  template <class T>
  std::pair<T, T> normal_pair() {
    const T u1 = T(1) - uniform<T>();  // (0, 1]: log is finite
    const T u2 = uniform<T>();
    const T r = std::sqrt(T(-2) * std::log(u1));
    const T theta = T(2) * std::numbers::pi_v<T> * u2;
    return {r * std::cos(theta), r * std::sin(theta)};
  }

  const RngState& state() const noexcept { return m_state; }
  void set_state(const RngState& state) {
    m_state = state;
    if (m_state.position < 4) m_block = philox(counter_block(m_state.counter_low - 1, m_state.counter_high - (m_state.counter_low == 0 ? 1 : 0)), key());
  }
  std::uint64_t seed() const noexcept { return m_state.seed; }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // splitmix64 finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::array<std::uint32_t, 2> key() const {
    return {static_cast<std::uint32_t>(m_state.seed), static_cast<std::uint32_t>(m_state.seed >> 32)};
  }

  static Block counter_block(std::uint64_t low, std::uint64_t high) {
    return {static_cast<std::uint32_t>(low), static_cast<std::uint32_t>(low >> 32), static_cast<std::uint32_t>(high),
            static_cast<std::uint32_t>(high >> 32)};
  }

  static constexpr std::size_t lanes = 16;  // blocks per vectorised batch (64 words)

  /// The blocks of the next `lanes` counters, words in stream order, then the counter moves
  /// past them (the caller has checked that the low 64 bits do not wrap).
#if defined(__AVX2__)
  // AVX2 has the 32 x 32 -> 64-bit product itself (vpmuludq, on the low half of each 64-bit
  // lane): the generic form below leaves GCC multiplying 64-bit lanes by shifts and adds.
  // Only each lane's low 32 bits carry a word; the high bits, left unmasked, never reach them.
  void philox_lanes(std::uint32_t* out) {
    static_assert(lanes % 4 == 0);
    constexpr std::size_t regs = lanes / 4;
    const __m256i m0 = _mm256_set1_epi64x(0xD2511F53), m1 = _mm256_set1_epi64x(0xCD9E8D57);
    __m256i c0[regs], c1[regs], c2[regs], c3[regs];
    for (std::size_t r = 0; r < regs; ++r) {
      const __m256i low = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(m_state.counter_low + 4 * r)),
                                           _mm256_set_epi64x(3, 2, 1, 0));
      c0[r] = low;
      c1[r] = _mm256_srli_epi64(low, 32);
      c2[r] = _mm256_set1_epi64x(static_cast<long long>(m_state.counter_high));
      c3[r] = _mm256_set1_epi64x(static_cast<long long>(m_state.counter_high >> 32));
    }
    std::array<std::uint32_t, 2> k = key();
    for (int round = 0; round < 10; ++round) {  // the same rounds as philox(), all lanes at once
      if (round > 0) {
        k[0] += 0x9E3779B9;
        k[1] += 0xBB67AE85;
      }
      const __m256i k0 = _mm256_set1_epi64x(k[0]), k1 = _mm256_set1_epi64x(k[1]);
      for (std::size_t r = 0; r < regs; ++r) {
        const __m256i p0 = _mm256_mul_epu32(c0[r], m0);
        const __m256i p1 = _mm256_mul_epu32(c2[r], m1);
        c0[r] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[r]), k0);
        c2[r] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[r]), k1);
        c1[r] = p1;
        c3[r] = p0;
      }
    }
    for (std::size_t r = 0; r < regs; ++r) {  // the words of blocks 4r .. 4r + 3, in order
      const __m256i w01 = _mm256_blend_epi32(c0[r], _mm256_slli_epi64(c1[r], 32), 0xAA);  // x0 y0 per block
      const __m256i w23 = _mm256_blend_epi32(c2[r], _mm256_slli_epi64(c3[r], 32), 0xAA);
      const __m256i even = _mm256_unpacklo_epi64(w01, w23);  // blocks 4r and 4r + 2
      const __m256i odd = _mm256_unpackhi_epi64(w01, w23);   // blocks 4r + 1 and 4r + 3
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16 * r), _mm256_permute2x128_si256(even, odd, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16 * r + 8), _mm256_permute2x128_si256(even, odd, 0x31));
    }
    m_state.counter_low += lanes;  // position stays 4: no block is half used
  }
#else
  void philox_lanes(std::uint32_t* out) {
    constexpr std::uint64_t m0 = 0xD2511F53, m1 = 0xCD9E8D57, low32 = 0xFFFFFFFF;
    constexpr std::uint32_t w0 = 0x9E3779B9, w1 = 0xBB67AE85;
    // The 32-bit words of `lanes` blocks, one block per lane of a GCC/clang vector of 64-bit
    // lanes: the 32 x 32 -> 64-bit products are then vector multiplies (the compiler does not
    // vectorise the scalar form of this loop by itself).
    using Lanes = std::uint64_t __attribute__((vector_size(lanes * sizeof(std::uint64_t))));
    Lanes c0, c1, c2, c3;
    for (std::size_t j = 0; j < lanes; ++j) {
      const std::uint64_t low = m_state.counter_low + j;
      c0[j] = low & low32;
      c1[j] = low >> 32;
      c2[j] = m_state.counter_high & low32;
      c3[j] = m_state.counter_high >> 32;
    }
    std::array<std::uint32_t, 2> k = key();
    for (int round = 0; round < 10; ++round) {  // the same rounds as philox(), all lanes at once
      if (round > 0) {
        k[0] += w0;
        k[1] += w1;
      }
      const Lanes p0 = c0 * m0;
      const Lanes p1 = c2 * m1;
      c0 = (p1 >> 32) ^ c1 ^ std::uint64_t{k[0]};
      c2 = (p0 >> 32) ^ c3 ^ std::uint64_t{k[1]};
      c1 = p1 & low32;
      c3 = p0 & low32;
    }
    for (std::size_t j = 0; j < lanes; ++j) {
      out[4 * j] = static_cast<std::uint32_t>(c0[j]);
      out[4 * j + 1] = static_cast<std::uint32_t>(c1[j]);
      out[4 * j + 2] = static_cast<std::uint32_t>(c2[j]);
      out[4 * j + 3] = static_cast<std::uint32_t>(c3[j]);
    }
    m_state.counter_low += lanes;  // position stays 4: no block is half used
  }
#endif

  void refill() {
    m_block = philox(counter_block(m_state.counter_low, m_state.counter_high), key());
    if (++m_state.counter_low == 0) ++m_state.counter_high;
    m_state.position = 0;
  }

#if VAELIB_SIMD
  /// fill_normal for float: the same pairs from the same words as normal_pair (u1 from word
  /// 2i, u2 from word 2i + 1), the words drawn in bulk and the logarithms, square roots and
  /// sines taken a vector at a time (xsimd's functions, which may round the last bit
  /// differently from the C library's). Ranges of pairs run on the BLAS's threads, each from
  /// its own place in the stream.
  void fill_normal_vectorized(std::span<float> out, float mean, float stddev) {
    using B = xsimd::batch<float>;
    using U = xsimd::batch<std::uint32_t>;
    const std::size_t pairs = out.size() / 2;
    detail::parallel_for(pairs, 4096, [&](std::size_t from, std::size_t to) {
      constexpr std::size_t chunk = 256;  // pairs
      alignas(64) std::uint32_t words[2 * chunk];
      alignas(64) std::uint32_t first[chunk], second[chunk];
      alignas(64) float cosines[chunk], sines[chunk];
      Rng part = ahead(2 * from);
      for (std::size_t begin = from; begin < to; begin += chunk) {
        const std::size_t n = std::min(chunk, to - begin);
        part.fill_u32(std::span<std::uint32_t>(words, 2 * n));
        for (std::size_t i = 0; i < n; ++i) {
          first[i] = words[2 * i];
          second[i] = words[2 * i + 1];
        }
        const std::size_t whole = (n + B::size - 1) / B::size * B::size;  // the arrays' tails are scratch
        for (std::size_t i = n; i < whole; ++i) first[i] = second[i] = 0;
        for (std::size_t i = 0; i < whole; i += B::size) {
          const B u1 = B(1.0f) - xsimd::batch_cast<float>(U::load_aligned(first + i) >> 8) * B(0x1.0p-24f);
          const B u2 = xsimd::batch_cast<float>(U::load_aligned(second + i) >> 8) * B(0x1.0p-24f);
          const B r = xsimd::sqrt(B(-2.0f) * xsimd::log(u1));
          const auto [s, c] = xsimd::sincos(B(2.0f * std::numbers::pi_v<float>) * u2);
          (r * c).store_aligned(cosines + i);
          (r * s).store_aligned(sines + i);
        }
        float* o = out.data() + 2 * begin;
        for (std::size_t i = 0; i < n; ++i) {
          o[2 * i] = mean + stddev * cosines[i];
          o[2 * i + 1] = mean + stddev * sines[i];
        }
      }
    });
    skip(2 * pairs);
    if (out.size() % 2 == 1) out.back() = mean + stddev * normal_pair<float>().first;
  }
#endif

  RngState m_state;
  Block m_block{};
};

}  // namespace vaelib
