#include "plugin/agent/map_reply.h"

namespace danegate::agent {

std::string MapReply::Payload() const {
  switch (status) {
    case Status::kOk: return "OK " + data;
    case Status::kNotFound: return "NOTFOUND ";
    case Status::kTemp: return "TEMP " + data;
    case Status::kPerm: return "PERM " + data;
  }
  return "TEMP internal error";
}

MapReply MapReply::Failure(Status status, const std::string& reason, const std::string& detail) {
  std::string text = detail.empty() ? reason : reason + ": " + detail;
  if (text.size() > kMaxFailureText) text.resize(kMaxFailureText);
  for (char& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return MapReply{status, std::move(text), reason};
}

}  // namespace danegate::agent
