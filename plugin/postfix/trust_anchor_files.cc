#include "plugin/postfix/trust_anchor_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/tlsa/association.h"

namespace danegate::postfix {
namespace {

constexpr absl::string_view kPrefix = "ta-";
constexpr absl::string_view kSuffix = ".pem";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

absl::Status WriteAtomically(const std::string& path, absl::string_view content) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status status = Errno("cannot write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return status;
    }
    done += static_cast<size_t>(n);
  }
  // 0644 regardless of the umask: Postfix's smtp runs as another user.
  if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Errno("cannot finish", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Errno("cannot rename to", path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrustAnchorFiles>> TrustAnchorFiles::Open(std::string dir,
                                                                         size_t max_files) {
  if (dir.empty() || max_files == 0) {
    return absl::InvalidArgumentError("--ta-dir must be a directory, --ta-files at least 1");
  }
  // Creates missing parents too, like mkdir -p.
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string part = dir.substr(0, slash);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ta-dir: cannot create ", part, ": ", std::strerror(errno)));
    }
    if (slash == std::string::npos) break;
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ta-dir: cannot open ", dir, ": ", std::strerror(errno)));
  }
  while (const dirent* entry = readdir(d)) {
    const absl::string_view name = entry->d_name;
    if (absl::StartsWith(name, kPrefix)) unlink(absl::StrCat(dir, "/", name).c_str());
  }
  closedir(d);
  return std::unique_ptr<TrustAnchorFiles>(new TrustAnchorFiles(std::move(dir), max_files));
}

absl::StatusOr<std::string> TrustAnchorFiles::Store(absl::string_view pem) {
  absl::StatusOr<std::string> digest = tlsa::MatchingData(std::string(pem), tlsa::kSha256);
  if (!digest.ok()) return digest.status();
  const std::string path =
      absl::StrCat(dir_, "/", kPrefix, absl::BytesToHexString(*digest), kSuffix);
  absl::MutexLock lock(&mu_);
  auto it = index_.find(path);
  struct stat st;
  if (it != index_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second);
    if (stat(path.c_str(), &st) == 0) return path;  // else removed behind our back: rewrite
  } else {
    recent_.push_front(path);
    index_[path] = recent_.begin();
  }
  if (absl::Status written = WriteAtomically(path, pem); !written.ok()) {
    index_.erase(path);
    recent_.pop_front();
    return written;
  }
  while (recent_.size() > max_files_) {
    unlink(recent_.back().c_str());
    index_.erase(recent_.back());
    recent_.pop_back();
  }
  return path;
}

}  // namespace danegate::postfix
