// danegated: the danegate validation service. Builds the concrete adapters
// (getdns resolver, cache, OpenSSL matcher), wires them into the engine and
// serves danegate.v1.Validator, health and reflection over gRPC.
#include <signal.h>
#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "service/common/log.h"
#include "service/common/metrics_http.h"
#include "service/common/stop_signals.h"
#include "service/common/thread_pool.h"
#include "service/common/version.h"
#include "service/dns/caching_resolver.h"
#include "service/dns/dispatching_resolver.h"
#include "service/dns/validating_resolver.h"
#include "service/engine/dane_engine.h"
#include "service/server/audit_log.h"
#include "service/server/config.h"
#include "service/server/credentials.h"
#include "service/server/grpc_listener.h"
#include "service/server/health_monitor.h"
#include "service/server/instrumented_resolver.h"
#include "service/server/metrics.h"
#include "service/server/validator_service.h"
#include "service/tlsa/certificate_cache.h"
#include "service/tlsa/matcher.h"

namespace danegate::server {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitInternal = 70;
constexpr char kLivenessService[] = "liveness";
constexpr auto kFromFd = grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD;
// Kubelet and the odd operator with grpc_health_probe.
constexpr size_t kHealthConnections = 64;
// Descriptors kept for everything but client connections: DNS sockets,
// the audit log, the metrics and health endpoints, gRPC's own.
constexpr rlim_t kReservedDescriptors = 256;

int Fail(int status, const std::string& message) {
  common::Log("error", message);
  return status;
}

// Returns --max-connections, lowered so client connections can never take
// the descriptors the rest of the process needs.
size_t ConnectionCap(size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return wanted;
  const rlim_t available = limit.rlim_cur > 2 * kReservedDescriptors
                               ? limit.rlim_cur - kReservedDescriptors
                               : limit.rlim_cur / 2;
  return std::min<size_t>(wanted, available);
}

int Serve(const ServerConfig& config, sigset_t& stop_signals) {
  absl::StatusOr<std::unique_ptr<AuditLog>> audit = AuditLog::Open(config.audit_log);
  if (!audit.ok()) return Fail(kExitUsage, std::string(audit.status().message()));
  absl::StatusOr<dns::ValidatingResolver> validating = dns::MakeValidatingResolver(config.resolver);
  if (!validating.ok()) return Fail(kExitUsage, std::string(validating.status().message()));
  absl::StatusOr<std::unique_ptr<tlsa::DaneMatcher>> matcher =
      tlsa::DaneMatcher::Create({.certificate_cache_bytes = config.cert_cache_bytes});
  if (!matcher.ok()) return Fail(kExitInternal, std::string(matcher.status().message()));

  // The engine's work runs here, not on the resolver's event thread: one
  // worker per core (the matcher's OpenSSL verification is the CPU work).
  std::unique_ptr<common::ThreadPool> workers = common::ThreadPool::Create(
      static_cast<int>(std::max(2u, std::thread::hardware_concurrency())), "danegated-work");
  dns::DispatchingResolver dispatched(*validating->resolver, *workers);
  Metrics metrics;
  InstrumentedResolver upstream(dispatched, metrics);
  dns::CachingResolver cache(upstream, config.cache);
  engine::DaneEngine engine(cache, **matcher, config.engine);
  ValidatorService service(engine, **matcher, metrics, **audit, config.max_request_bytes);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // danegated owns its listening sockets (grpc_listener.h says why).
  const size_t max_connections = ConnectionCap(config.max_connections);
  absl::StatusOr<std::unique_ptr<GrpcListener>> listener =
      GrpcListener::Bind("--listen", config.listen, max_connections);
  if (!listener.ok()) return Fail(kExitUnavailable, std::string(listener.status().message()));
  grpc::ServerBuilder builder;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor =
      builder.experimental().AddExternalConnectionAcceptor(kFromFd, MakeServerCredentials(config));
  builder.RegisterService(&service);
  // Twice our own limit, so an oversized request reaches the service and
  // gets INVALID_ARGUMENT naming the limit; beyond that gRPC refuses it
  // (RESOURCE_EXHAUSTED) and memory per call stays bounded.
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_request_bytes) * 2);
  // What one client may hold: memory for all gRPC buffers (rapid reset and
  // stalled streams are refused past it instead of growing without bound),
  // streams per connection, the handshake, idle and total connection life,
  // and keepalive pings (at most one per 10 s without calls; a client that
  // pings more is disconnected).
  grpc::ResourceQuota quota("danegated");
  quota.Resize(config.memory_quota_bytes);
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(config.max_concurrent_streams));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(config.handshake_timeout)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config.max_connection_idle)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config.max_connection_age)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(config.grace_period)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return Fail(kExitUnavailable, "cannot start the gRPC server");
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(false);

  // A listener that stops for good (it should not) ends the process, so a
  // supervisor restarts it instead of leaving a server nobody can reach.
  std::atomic<bool> listener_failed{false};
  auto on_listener_failure = [&listener_failed](const absl::Status&) {
    listener_failed = true;
    kill(getpid(), SIGTERM);
  };
  (*listener)->Start(std::move(acceptor), on_listener_failure);

  // A plaintext server with the health service alone (every server built
  // here gets the default one), for probes that cannot speak TLS.
  std::unique_ptr<GrpcListener> health_listener;
  std::unique_ptr<grpc::Server> health_server;
  if (!config.health_listen.empty()) {
    absl::StatusOr<std::unique_ptr<GrpcListener>> bound =
        GrpcListener::Bind("--health-listen", config.health_listen, kHealthConnections);
    if (!bound.ok()) {
      (*listener)->Stop();
      server->Shutdown();
      return Fail(kExitUnavailable, std::string(bound.status().message()));
    }
    health_listener = *std::move(bound);
    grpc::ServerBuilder health_builder;
    std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> health_acceptor =
        health_builder.experimental().AddExternalConnectionAcceptor(
            kFromFd, grpc::InsecureServerCredentials());
    health_server = health_builder.BuildAndStart();
    if (health_server == nullptr) {
      (*listener)->Stop();
      server->Shutdown();
      return Fail(kExitUnavailable, "cannot start the health server");
    }
    health_listener->Start(std::move(health_acceptor), on_listener_failure);
  }
  // "" is readiness, "liveness" is SERVING while the listener takes
  // connections (a DNS outage is no reason to restart).
  auto set_health = [&](const Health& state) {
    health->SetServingStatus(state.ready);
    health->SetServingStatus(kLivenessService, state.live);
    if (health_server) {
      health_server->GetHealthCheckService()->SetServingStatus(state.ready);
      health_server->GetHealthCheckService()->SetServingStatus(kLivenessService, state.live);
    }
    metrics.SetServing(state.ready);
  };
  set_health(Health{});

  std::unique_ptr<common::MetricsHttpServer> metrics_http;
  if (!config.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<common::MetricsHttpServer>> started =
        common::MetricsHttpServer::Start(config.metrics_listen, [&] {
          return metrics.Render(cache.Stats(), (*matcher)->CertificateCacheStats(),
                                (*listener)->GetStats(), (*audit)->dropped());
        });
    if (!started.ok()) {
      (*listener)->Stop();
      server->Shutdown();
      return Fail(kExitUnavailable, std::string(started.status().message()));
    }
    metrics_http = *std::move(started);
  }

  // The probe goes to the resolver directly: the cache must not hide an outage.
  std::unique_ptr<HealthMonitor> monitor = HealthMonitor::Start(
      *validating->resolver, validating->trust_anchor_owner, config.health_interval,
      config.resolver.timeout + absl::Seconds(1),
      [&, seen = GrpcListener::Stats{}]() mutable {
        const GrpcListener::Stats now = (*listener)->GetStats();
        ListenerHealth state{now.accepting, ""};
        if (now.refused_at_cap > seen.refused_at_cap) state.refusing = "--max-connections reached";
        if (now.refused_no_descriptor > seen.refused_no_descriptor) {
          state.refusing = "no descriptor left";
        }
        seen = now;
        return state;
      },
      set_health);

  common::Log("info", "listening",
              {{"listen", config.listen},
               {"port", std::to_string((*listener)->port())},
               {"tls", config.tls_cert_file.empty()    ? "off"
                       : config.client_ca_file.empty() ? "server"
                                                       : "mutual"},
               {"metrics_port", metrics_http ? std::to_string(metrics_http->port()) : ""},
               {"health_port", health_listener ? std::to_string(health_listener->port()) : ""},
               {"max_connections", std::to_string(max_connections)}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  common::Log("info", "stopping",
              {{"signal", std::to_string(signal_number)},
               {"grace_period", absl::FormatDuration(config.grace_period)}});
  monitor.reset();
  set_health(Health{.live = !listener_failed, .ready = false, .why = "stopping"});
  (*listener)->Stop();  // new connections are refused from here
  // Stops accepting; RPCs in flight get the grace period to finish. Then
  // the DNS lookups still running fail at once, so the calls they hold end
  // (defer) and the process exits within the grace, not after a chain of
  // --dns-timeout waits.
  const absl::Time grace_end = absl::Now() + config.grace_period;
  absl::Notification drained;
  std::thread at_grace_end([&] {
    if (!drained.WaitForNotificationWithDeadline(grace_end)) validating->stop();
  });
  server->Shutdown(absl::ToChronoTime(grace_end));
  server->Wait();
  drained.Notify();
  at_grace_end.join();
  if (health_server) {
    health_listener->Stop();
    health_server->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server->Wait();
  }
  // Every call has ended, and with it every lookup (a call ends only when
  // its lookups have answered; the health monitor is gone): run what the
  // workers still hold while the engine, the cache and the metrics they
  // use are all still here.
  workers.reset();
  if (listener_failed) return Fail(kExitUnavailable, "stopped: a listener failed");
  common::Log("info", "stopped");
  return 0;
}

// Raises the soft limit on open descriptors to the hard one: each client
// connection is a descriptor, and running out makes gRPC's listener stop
// accepting for a long time.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      common::Log("warning", "cannot raise the descriptor limit",
                  {{"error", std::strerror(errno)}});
    }
  }
}

int Main(int argc, char** argv) {
  // Debian's Abseil leaves mutex deadlock detection on: a cycle graph update
  // on every lock (about 4% of a cached ResolvePolicy, measured with perf).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Signals are taken by sigwait in Serve; every thread inherits the mask.
  sigset_t stop_signals = common::BlockStopSignals();

  absl::StatusOr<ParsedFlags> parsed =
      ParseServerFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    std::cerr << "danegated: " << parsed.status().message() << "\nTry 'danegated --help'.\n";
    return kExitUsage;
  }
  if (parsed->version) {
    std::cout << "danegated " << common::kVersion << "\n";
    return 0;
  }
  if (parsed->help) {
    std::cout << parsed->help_text;
    return 0;
  }
  RaiseDescriptorLimit();
  return Serve(parsed->config, stop_signals);
}

}  // namespace
}  // namespace danegate::server

int main(int argc, char** argv) {
  try {
    return danegate::server::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "danegated: internal error: " << e.what() << "\n";
    return 70;
  }
}
