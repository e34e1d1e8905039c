// Prometheus text-format helpers shared by danegate's programs: a latency
// histogram with fixed buckets, lock-free to observe.
#ifndef DANEGATE_SERVICE_COMMON_HISTOGRAM_H_
#define DANEGATE_SERVICE_COMMON_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace danegate::common {

// A latency histogram with fixed buckets (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
  void Observe(absl::Duration d);
  // Appends the _bucket/_sum/_count lines for `name` with `labels` ("" or
  // `a="b"` pairs without braces).
  void Render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

// Appends "# HELP name help" and "# TYPE name type".
void PrometheusHeader(std::string& out, const char* name, const char* type, const char* help);

// Appends the header and the one sample "name value" of an unlabelled metric.
void PrometheusSample(std::string& out, const char* name, const char* type, const char* help,
                      const absl::AlphaNum& value);

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_HISTOGRAM_H_
