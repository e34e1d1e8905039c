#include "service/common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace danegate::common {

uint16_t SocketAddress::port() const {
  return ntohs(family() == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port
                                    : reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

bool SocketAddress::loopback() const {
  if (family() == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  }
  return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr) >> 24) == 127;
}

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof text);
    return absl::StrCat("[", text, "]:", port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
  return absl::StrCat(text, ":", port());
}

absl::StatusOr<SocketAddress> ParseSocketAddress(absl::string_view flag, absl::string_view text) {
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(text.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "': want ADDR:PORT or [ADDR]:PORT, port 0..65535"));
  }
  absl::string_view host = text.substr(0, colon);
  SocketAddress address;
  if (absl::ConsumePrefix(&host, "[") && absl::ConsumeSuffix(&host, "]")) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    address.size = sizeof *v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': not a numeric address"));
    }
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    address.size = sizeof *v4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4->sin_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': not a numeric address"));
    }
  }
  return address;
}

absl::StatusOr<SocketAddress> ParseListenAddress(absl::string_view flag, absl::string_view text) {
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "localhost:")) {
    absl::StatusOr<SocketAddress> address =
        ParseSocketAddress(flag, absl::StrCat("127.0.0.1:", rest));
    if (address.ok()) return address;
  }
  return ParseSocketAddress(flag, text);
}

}  // namespace danegate::common
