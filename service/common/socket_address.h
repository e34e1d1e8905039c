// Numeric socket addresses given in flags: "A.B.C.D:PORT" or "[V6]:PORT",
// parsed once into a sockaddr for bind(), with the loopback test the
// programs use to refuse unauthenticated listeners on the network.
#ifndef DANEGATE_SERVICE_COMMON_SOCKET_ADDRESS_H_
#define DANEGATE_SERVICE_COMMON_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace danegate::common {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t size = 0;

  int family() const { return storage.ss_family; }
  uint16_t port() const;
  // 127.0.0.0/8 or ::1.
  bool loopback() const;
  // "A.B.C.D:PORT" or "[V6]:PORT", as ParseSocketAddress reads it.
  std::string ToString() const;
};

// Parses `text` (port 0..65535; no host names). InvalidArgument starting
// with "FLAG 'TEXT':" otherwise.
absl::StatusOr<SocketAddress> ParseSocketAddress(absl::string_view flag, absl::string_view text);

// A listening address given in a flag: what ParseSocketAddress takes, or
// "localhost:PORT" (the one name taken, as 127.0.0.1).
absl::StatusOr<SocketAddress> ParseListenAddress(absl::string_view flag, absl::string_view text);

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_SOCKET_ADDRESS_H_
