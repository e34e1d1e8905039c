// The daemons' stop signals: SIGTERM and SIGINT are blocked before any
// thread starts (every thread inherits the mask) and taken by one sigwait;
// SIGPIPE is ignored (a peer closing a socket is an error return, not death).
#ifndef DANEGATE_SERVICE_COMMON_STOP_SIGNALS_H_
#define DANEGATE_SERVICE_COMMON_STOP_SIGNALS_H_

#include <signal.h>

namespace danegate::common {

// Blocks SIGTERM and SIGINT in the calling thread, ignores SIGPIPE, and
// returns the blocked set for sigwait. Call first in main.
sigset_t BlockStopSignals();

}  // namespace danegate::common

#endif  // DANEGATE_SERVICE_COMMON_STOP_SIGNALS_H_
