#include "service/dns/name.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace danegate::dns {
namespace {

// Letters, digits, '-', and '_': DNS allows an underscore in a host name's
// labels, and Postfix (valid_hostname) accepts MX hosts with one; RFC 952's
// stricter syntax would make such a host unreachable here alone.
bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string Printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(u, absl::kZeroPad2));
}

}  // namespace

absl::StatusOr<std::string> CanonicalMailName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return Invalid(field, "empty name");
  absl::string_view body = name;
  absl::ConsumeSuffix(&body, ".");
  if (body.empty()) return Invalid(field, "the root is not a mail domain");
  if (body.size() > kMaxNameLength) {
    return Invalid(field,
                   absl::StrCat("name is ", body.size(), " octets; the limit is ", kMaxNameLength));
  }
  int label_index = 0;
  absl::string_view last_label;
  for (absl::string_view label : absl::StrSplit(body, '.')) {
    ++label_index;
    if (label.empty()) {
      return Invalid(field, absl::StrCat("label ", label_index, " is empty"));
    }
    if (label.size() > kMaxLabelLength) {
      return Invalid(field, absl::StrCat("label ", label_index, " is ", label.size(),
                                         " octets; the limit is ", kMaxLabelLength));
    }
    for (char c : label) {
      if (!IsHostChar(c)) {
        std::string hint = static_cast<unsigned char>(c) >= 0x80
                               ? " (use the A-label form of internationalised names)"
                               : "";
        return Invalid(field,
                       absl::StrCat("label ", label_index, " contains ", Printable(c),
                                    "; only letters, digits, '-' and '_' are allowed", hint));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Invalid(field, absl::StrCat("label ", label_index, " starts or ends with '-'"));
    }
    last_label = label;
  }
  if (label_index < 2) return Invalid(field, "a mail domain needs at least two labels");
  bool all_digits = true;
  for (char c : last_label) all_digits = all_digits && absl::ascii_isdigit(c);
  if (all_digits) {
    return Invalid(field, "the top-level label is numeric (an address is not a domain)");
  }
  return absl::AsciiStrToLower(body);
}

std::string TlsaOwnerName(absl::string_view host, uint16_t port) {
  return absl::StrCat("_", port, "._tcp.", host);
}

bool SameName(absl::string_view a, absl::string_view b) { return absl::EqualsIgnoreCase(a, b); }

}  // namespace danegate::dns
