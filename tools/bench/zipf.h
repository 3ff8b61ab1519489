// Picks ranks 1..n with a Zipf distribution: P(k) proportional to 1 / k^s.
// s = 0 is uniform; s = 1 (the classic) gives rank 1 about 1 / H(n) of the
// picks (a third of them for n = 5, a fifth for n = 100), and so on down.
#ifndef TXMSG_TOOLS_BENCH_ZIPF_H_
#define TXMSG_TOOLS_BENCH_ZIPF_H_

#include <cstdint>
#include <random>
#include <vector>

namespace txmsg::bench {

class ZipfPicker {
 public:
  // `n` >= 1, `s` >= 0.
  ZipfPicker(int64_t n, double s);
  // A rank in [1, n].
  int64_t Pick(std::mt19937_64& rng) const;
  // The probability of rank `k`.
  double Probability(int64_t k) const;

 private:
  std::vector<double> cumulative_;  // cumulative_[k-1] = P(rank <= k)
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_ZIPF_H_
