#include "service/common/json.h"

#include "absl/strings/str_cat.h"

namespace danegate::common {
namespace {

// Returns the length of the well-formed UTF-8 sequence at text[i], or 0.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t len = 0;
  uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    len = 2, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    len = 3, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  uint32_t cp = lead & (0xff >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\u00", absl::Hex(u, absl::kZeroPad2));
    } else if (u < 0x80) {
      out += c;
    } else if (const size_t len = Utf8SequenceLength(text, i); len > 0) {
      out.append(text.data() + i, len);  // valid UTF-8 is valid JSON
      i += len - 1;
    } else {
      out += "\\ufffd";  // a stray byte (details may quote hostile data)
    }
  }
  out += "\"";
  return out;
}

}  // namespace danegate::common
