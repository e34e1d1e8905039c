// The release every binary reports (--version, the build_info metrics):
// the CMake project version.
#ifndef DANEGATE_SERVICE_COMMON_VERSION_H_
#define DANEGATE_SERVICE_COMMON_VERSION_H_

namespace danegate::common {

inline constexpr char kVersion[] = DANEGATE_VERSION;

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_VERSION_H_
