// The fixed-order float sum behind the batch affinity's degrees.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/fixed_order_sum.hpp"
#include "core/random.hpp"
#include "neuncut/core/types.hpp"

using namespace neuncut;

TEST(FixedOrderSum, AccurateAndIndependentOfAlignment) {
  // The degrees' sum: within the worst-case bound of any fp32 summation order (gamma_n times
  // the sum of magnitudes) of the exact sum, and bit for bit the same wherever the values sit
  // in memory (a vectorizing compiler may not reassociate it by alignment), at every length.
  detail::Rng rng(9);
  std::vector<float> buffer(1100 + 16);
  for (Index n : {0, 1, 5, 15, 16, 17, 31, 100, 1000, 1023, 1100}) {
    std::vector<float> values(static_cast<std::size_t>(n));
    for (auto& v : values) v = float(rng.normal() * std::exp(3 * rng.normal()));
    double exact = 0, magnitude = 0;
    for (float v : values) exact += v, magnitude += std::abs(v);
    const float first = detail::fixed_order_sum(values.data(), n);
    const double gamma = double(n) * std::ldexp(1.0, -24) / (1 - double(n) * std::ldexp(1.0, -24));
    EXPECT_LE(std::abs(first - exact), gamma * magnitude + 1e-30) << "n " << n;
    for (Index offset = 1; offset < 16; ++offset) {
      std::copy(values.begin(), values.end(), buffer.begin() + offset);
      ASSERT_EQ(std::bit_cast<std::uint32_t>(detail::fixed_order_sum(buffer.data() + offset, n)),
                std::bit_cast<std::uint32_t>(first))
          << "n " << n << ", offset " << offset;
    }
  }
}
