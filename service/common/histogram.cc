#include "service/common/histogram.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace danegate::common {
namespace {

uint64_t Load(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

}  // namespace

void Histogram::Observe(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<uint64_t>(absl::ToInt64Nanoseconds(d)),
                       std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string& out) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += Load(buckets_[i]);
    absl::StrAppend(&out, name, "_bucket{", labels, sep, "le=\"", kBounds[i], "\"} ", cumulative,
                    "\n");
  }
  cumulative += Load(buckets_[kBounds.size()]);
  absl::StrAppend(&out, name, "_bucket{", labels, sep, "le=\"+Inf\"} ", cumulative, "\n");
  const std::string braces = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(&out, name, "_sum", braces, " ",
                  absl::StrFormat("%.9f", static_cast<double>(Load(sum_nanos_)) / 1e9), "\n");
  absl::StrAppend(&out, name, "_count", braces, " ", Load(count_), "\n");
}

void PrometheusHeader(std::string& out, const char* name, const char* type, const char* help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void PrometheusSample(std::string& out, const char* name, const char* type, const char* help,
                      const absl::AlphaNum& value) {
  PrometheusHeader(out, name, type, help);
  absl::StrAppend(&out, name, " ", value, "\n");
}

}  // namespace danegate::common
