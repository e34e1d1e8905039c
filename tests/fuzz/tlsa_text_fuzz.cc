// Fuzzes TLSA text parsing and classification: never crashes, and whatever
// parses survives a round trip through its text form.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "service/tlsa/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<danegate::tlsa::TlsaRecord> record = danegate::tlsa::ParseTlsaText(text);
  if (!record.ok()) return 0;
  danegate::tlsa::Classify(*record);
  absl::StatusOr<danegate::tlsa::TlsaRecord> again =
      danegate::tlsa::ParseTlsaText(danegate::tlsa::TlsaText(*record));
  if (!again.ok() || !(*again == *record)) std::abort();
  return 0;
}
