/* danegate_client: a small C ABI for MTA plugins (Exim's dlfunc object, the
 * Postfix adapter) to ask a danegated. Every call has a deadline; every
 * failure (validator unreachable or slow, bad configuration, malformed
 * answer) is reported as a DEFER answer, never as a delivery.
 *
 * Fork-safe by default: each call runs in a short-lived child process that
 * starts gRPC, asks, and hands the answer back through a pipe, so the host
 * never has gRPC threads or connections and may fork at any time (Exim does,
 * for logging and every transport); the deadline is enforced by the host
 * (the child is killed). A daemon that never forks after calling can ask in
 * process on a kept channel with keep_channel = true.
 * Thread-safe. Answers are returned in caller-owned fixed-size structs.
 */
#ifndef DANEGATE_PLUGIN_CLIENT_DANEGATE_CLIENT_H_
#define DANEGATE_PLUGIN_CLIENT_DANEGATE_CLIENT_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum danegate_action { DANEGATE_DELIVER = 0, DANEGATE_DEFER = 1, DANEGATE_REJECT = 2 };

#define DANEGATE_REASON_MAX 64
#define DANEGATE_DETAIL_MAX 512
#define DANEGATE_TLSA_MAX 300
#define DANEGATE_HOSTS_MAX 4200

struct danegate_answer {
  int action;        /* enum danegate_action */
  int authenticated; /* VerifyPeer: 1 when a usable TLSA record matched */
  int from_service;  /* 1: the validator answered; 0: synthesized on failure */
  char reason[DANEGATE_REASON_MAX];       /* snake_case reason code */
  char detail[DANEGATE_DETAIL_MAX];       /* human-readable, may be truncated */
  char matched_tlsa[DANEGATE_TLSA_MAX];   /* "U S M hex", may be truncated */
  /* ResolvePolicy: host list (": "-separated) for which TLS is not
   * optional: "! opportunistic-host : ... : *", i.e. every host except the
   * ones the policy allows to be reached without TLS. */
  char require_tls_hosts[DANEGATE_HOSTS_MAX];
};

/* Reads the client configuration file at `path` (cached per path):
 *   server = HOST:PORT          (required)
 *   tls_ca = FILE               (enables TLS; verifies the server)
 *   tls_cert = FILE, tls_key = FILE   (client certificate: mutual TLS)
 *   tls_server_name = NAME      (name expected in the server certificate)
 *   timeout_ms = N              (deadline of each call; default 2000)
 *   keep_channel = true|false   (default false; true only in processes that
 *                                never fork after a call)
 * Lines starting with '#' are comments. */

/* Asks ResolvePolicy(domain, port). Always fills `out`; returns 0 when the
 * validator answered, -1 when `out` is a synthesized DEFER. */
int danegate_resolve_policy(const char* config_path, const char* domain, unsigned port,
                            struct danegate_answer* out);

/* Asks VerifyPeer with the chain as DER certificates, leaf first. Same
 * contract as danegate_resolve_policy. */
int danegate_verify_peer(const char* config_path, const char* domain, const char* mx_host,
                         unsigned port, const unsigned char* const* der, const size_t* der_len,
                         size_t count, struct danegate_answer* out);

#ifdef __cplusplus
}
#endif

#endif /* DANEGATE_PLUGIN_CLIENT_DANEGATE_CLIENT_H_ */
