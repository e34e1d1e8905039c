// The trust-anchor files danegate-agent hands to Postfix in "secure
// tafile=FILE" policies: content-addressed (named by the SHA-256 of what they
// hold, so a name never changes meaning), written atomically, and bounded in
// number (the least recently used file is removed first). Thread-safe.
#ifndef DANEGATE_PLUGIN_POSTFIX_TRUST_ANCHOR_FILES_H_
#define DANEGATE_PLUGIN_POSTFIX_TRUST_ANCHOR_FILES_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace danegate::postfix {

class TrustAnchorFiles {
 public:
  // Uses directory `dir` (created if missing, files of an earlier run
  // removed), keeping at most `max_files` files.
  static absl::StatusOr<std::unique_ptr<TrustAnchorFiles>> Open(std::string dir, size_t max_files);

  // Returns the path of a world-readable file holding exactly `pem`, writing
  // it if it is not there.
  absl::StatusOr<std::string> Store(absl::string_view pem);

 private:
  TrustAnchorFiles(std::string dir, size_t max_files)
      : dir_(std::move(dir)), max_files_(max_files) {}

  const std::string dir_;
  const size_t max_files_;
  absl::Mutex mu_;
  std::list<std::string> recent_ ABSL_GUARDED_BY(mu_);  // paths, most recent first
  absl::flat_hash_map<std::string, std::list<std::string>::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace danegate::postfix

#endif  // DANEGATE_PLUGIN_POSTFIX_TRUST_ANCHOR_FILES_H_
