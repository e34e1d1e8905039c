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

}  // namespace danegate::agent
