#include "tools/bench/zipf.h"

#include <algorithm>
#include <cmath>

namespace txmsg::bench {

ZipfPicker::ZipfPicker(int64_t n, double s)
    : cumulative_(static_cast<size_t>(std::max<int64_t>(n, 1))) {
  double total = 0;
  for (size_t k = 0; k < cumulative_.size(); ++k) {
    total += 1.0 / std::pow(static_cast<double>(k + 1), s);
    cumulative_[k] = total;
  }
  for (double& c : cumulative_) c /= total;
  cumulative_.back() = 1.0;
}

int64_t ZipfPicker::Pick(std::mt19937_64& rng) const {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<int64_t>(static_cast<int64_t>(it - cumulative_.begin()) + 1,
                           static_cast<int64_t>(cumulative_.size()));
}

double ZipfPicker::Probability(int64_t k) const {
  if (k < 1 || k > static_cast<int64_t>(cumulative_.size())) return 0;
  const size_t i = static_cast<size_t>(k - 1);
  return cumulative_[i] - (i == 0 ? 0.0 : cumulative_[i - 1]);
}

}  // namespace txmsg::bench
