// Fuzzes the name syntax check: an accepted name is canonical (idempotent,
// lower-case, at most 253 octets, no trailing dot).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "service/dns/name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> name = danegate::dns::CanonicalMailName(text, "domain");
  if (!name.ok()) return 0;
  if (name->empty() || name->size() > danegate::dns::kMaxNameLength || name->back() == '.' ||
      absl::AsciiStrToLower(*name) != *name) {
    std::abort();
  }
  absl::StatusOr<std::string> again = danegate::dns::CanonicalMailName(*name, "domain");
  if (!again.ok() || *again != *name) std::abort();
  return 0;
}
