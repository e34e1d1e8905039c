"""danegated under operational stress, each with its own process: query
coalescing (counted at the lab's resolver), TTL expiry, mutual TLS, the
upstream resolver going away and coming back, SIGTERM with RPCs in flight,
and configurations refused at start."""
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from scenarios import TTL_TEST_SECONDS
from service_fixtures import Danegated


@pytest.fixture
def start(danegated_bin, tmp_path):
    started = []

    def _start(*args, wait_serving=True):
        d = Danegated(danegated_bin, str(tmp_path / f"d{len(started)}"), list(args),
                      wait_serving=wait_serving)
        started.append(d)
        return d
    yield _start
    for d in started:
        d.stop()


def test_concurrent_requests_make_one_upstream_query_per_name_and_type(stubs, lab, start):
    d = start(*lab.resolver_args())
    names = [("d-coalesce.dane.test", "MX"), ("mx-coalesce.dane.test", "A"),
             ("mx-coalesce.dane.test", "AAAA"), ("_25._tcp.mx-coalesce.dane.test", "TLSA")]
    before = {n: lab.upstream_queries(*n) for n in names}
    with grpc.insecure_channel(d.address) as channel:
        validator = stubs.rpc.ValidatorStub(channel)
        request = stubs.pb.ResolvePolicyRequest(domain="d-coalesce.dane.test")
        futures = [validator.ResolvePolicy.future(request, timeout=30) for _ in range(200)]
        answers = [f.result() for f in futures]
    assert all(a.reason == stubs.pb.REASON_DANE_REQUIRED for a in answers)
    assert {n: lab.upstream_queries(*n) - before[n] for n in names} == {n: 1 for n in names}
    # danegated's side of the same fact: one cache miss per (name, type); the
    # other 796 lookups joined one in flight or found it cached.
    assert d.metric("danegate_cache_misses_total") == 4
    assert d.metric("danegate_cache_coalesced_total") + d.metric("danegate_cache_hits_total") \
        == 200 * 4 - 4


def test_changed_tlsa_is_seen_once_its_ttl_has_passed(cli, lab, start):
    d = start(*lab.resolver_args())
    old = lab.certs.ee.tlsa(3, 1, 1)
    new = lab.certs.other.tlsa(3, 1, 1)

    def tlsa():
        _, got = cli.json("policy", f"--server={d.address}", "d-ttl.dane.test")
        t = got["mx"][0]["tlsa"][0]
        return f"{t['usage']} {t['selector']} {t['matching_type']} {t['data']}"

    assert tlsa() == old
    first_seen = time.monotonic()
    # Replace the record: rebuild the zone with the new TLSA instead of the old.
    lab.parent_records = [r for r in lab.parent_records if not r.startswith("_25._tcp.mx-ttl ")]
    lab.update_dane_test([f"_25._tcp.mx-ttl {TTL_TEST_SECONDS} TLSA {new}"])
    if time.monotonic() - first_seen < TTL_TEST_SECONDS - 1:
        assert tlsa() == old  # still cached: the TTL has not passed
    # The feature under test is time itself: wait out the TTL, plus one
    # second because the lab's Unbound counts TTLs in whole seconds and may
    # serve its own copy until the end of the last second.
    time.sleep(max(0.0, first_seen + TTL_TEST_SECONDS + 1.5 - time.monotonic()))
    assert tlsa() == new


def test_mutual_tls_refuses_all_but_allowed_clients(cli, lab, start, pki):
    d = start(*lab.resolver_args(), f"--tls-cert={pki['server']}",
              f"--tls-key={pki['server_key']}", f"--client-ca={pki['ca']}",
              "--allow-client=mta1.fleet.test")
    server = f"--server=localhost:{d.port}"
    tls = [f"--tls-ca={pki['ca']}"]

    def ask(*client):
        return cli.run("policy", server, *tls, *client, "--timeout=5s", "d-311.dane.test")

    ok = ask(f"--tls-cert={pki['mta1']}", f"--tls-key={pki['mta1_key']}")
    assert ok.returncode == 0, ok.stderr
    no_cert = ask()
    assert no_cert.returncode == 75 and "UNAVAILABLE" in no_cert.stderr
    rogue = ask(f"--tls-cert={pki['rogue_client']}", f"--tls-key={pki['rogue_client_key']}")
    assert rogue.returncode == 75 and "UNAVAILABLE" in rogue.stderr
    not_allowed = ask(f"--tls-cert={pki['mta9']}", f"--tls-key={pki['mta9_key']}")
    assert not_allowed.returncode == 75
    assert "PERMISSION_DENIED" in not_allowed.stderr and "mta9.fleet.test" in not_allowed.stderr
    assert not_allowed.stderr.count("mta9.fleet.test") == 1, not_allowed.stderr  # named once
    # The allowed name as CN of a certificate that has a SAN is not its name.
    cn_only = ask(f"--tls-cert={pki['cn_only_allowed']}", f"--tls-key={pki['cn_only_allowed_key']}")
    assert cn_only.returncode == 75 and "PERMISSION_DENIED" in cn_only.stderr, cn_only.stderr
    assert "[mta7.fleet.test]" in cn_only.stderr, cn_only.stderr
    # Plaintext to a TLS port fails too.
    assert cli.run("policy", server, "--timeout=5s", "d-311.dane.test").returncode == 75
    # The client checks the server's name: the certificate names localhost,
    # not 127.0.0.1, unless told which name to expect.
    mta1 = [f"--tls-cert={pki['mta1']}", f"--tls-key={pki['mta1_key']}"]
    by_address = [f"--server=127.0.0.1:{d.port}", *tls, *mta1, "--timeout=5s"]
    assert cli.run("policy", *by_address, "d-311.dane.test").returncode == 75
    assert cli.run("policy", *by_address, "--tls-server-name=localhost",
                   "d-311.dane.test").returncode == 0
    # Only the allowed client's decision reached the audit log, with its name.
    clients = {r["client"] for r in d.wait_audit(0, lambda r: True)}
    assert clients == {"mta1.fleet.test"}


def test_resolver_outage_defers_and_health_follows(stubs, cli, private_lab, start):
    """Readiness ("" on the gRPC port and on --health-listen) follows the
    resolver; "liveness" on the health port stays SERVING: an outage takes a
    replica out of rotation, it is no reason to restart it."""
    lab = private_lab
    d = start(*lab.resolver_args(), "--health-interval=200ms", "--dns-timeout=1s",
              "--cache-failure-ttl=0s", "--health-listen=127.0.0.1:0")
    health_pb = stubs.health_pb
    serving, not_serving = (health_pb.HealthCheckResponse.SERVING,
                            health_pb.HealthCheckResponse.NOT_SERVING)
    with grpc.insecure_channel(d.address) as channel, \
            grpc.insecure_channel(f"127.0.0.1:{d.health_port}") as probe_channel:
        watch = stubs.health_rpc.HealthStub(channel).Watch(
            health_pb.HealthCheckRequest(service=""), timeout=60)
        probe = stubs.health_rpc.HealthStub(probe_channel)
        ready = probe.Watch(health_pb.HealthCheckRequest(service=""), timeout=60)
        assert next(watch).status == serving
        assert next(ready).status == serving
        lab.stop_resolver()
        try:
            status, got = cli.json("policy", f"--server={d.address}", "d-301.dane.test")
            assert (status, got["action"], got["reason"]) == (75, "defer", "dns_failure")
            assert next(watch).status == not_serving
            assert next(ready).status == not_serving
            assert probe.Check(health_pb.HealthCheckRequest(service="liveness"),
                               timeout=10).status == serving
        finally:
            lab.start_resolver()
        assert next(watch).status == serving
        assert next(ready).status == serving
        watch.cancel()
        ready.cancel()
    status, got = cli.json("policy", f"--server={d.address}", "d-301.dane.test")
    assert (status, got["action"]) == (0, "deliver")


def settings_or_close(port):
    """Connects to danegated's port in plaintext; returns 'settings' when
    gRPC greets the connection (it speaks first), 'closed' when it is closed
    without a byte."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        got = s.recv(9)
    except ConnectionResetError:
        got = b""
    finally:
        s.close()
    return "settings" if len(got) == 9 and got[3] == 4 else "closed" if not got else repr(got)


def test_connections_past_the_cap_are_refused_and_readiness_says_so(stubs, lab, start):
    """--max-connections: clients past it are closed as they arrive (no
    descriptor exhaustion, after which gRPC 1.51's own listener never
    accepts again), readiness is off while that happens, liveness stays on,
    and the listener takes clients again once some leave."""
    d = start(*lab.resolver_args(), "--max-connections=3", "--health-interval=100ms",
              "--health-listen=127.0.0.1:0")
    health_pb = stubs.health_pb
    serving, not_serving = (health_pb.HealthCheckResponse.SERVING,
                            health_pb.HealthCheckResponse.NOT_SERVING)
    with grpc.insecure_channel(f"127.0.0.1:{d.health_port}") as probe_channel:
        probe = stubs.health_rpc.HealthStub(probe_channel)
        ready = probe.Watch(health_pb.HealthCheckRequest(service=""), timeout=60)
        assert next(ready).status == serving
        held = [socket.create_connection(("127.0.0.1", d.port), timeout=10) for _ in range(3)]
        try:
            assert all(len(s.recv(9)) == 9 for s in held)  # each greeted by gRPC
            assert settings_or_close(d.port) == "closed"
            assert d.metric('danegate_connections_refused_total{why="max_connections"}') == 1
            assert d.metric("danegate_connections") == 3
            assert next(ready).status == not_serving
            assert probe.Check(health_pb.HealthCheckRequest(service="liveness"),
                               timeout=10).status == serving
        finally:
            for s in held:
                s.close()
        assert next(ready).status == serving
        ready.cancel()
    with grpc.insecure_channel(d.address) as channel:
        answer = stubs.rpc.ValidatorStub(channel).ResolvePolicy(
            stubs.pb.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=30,
            wait_for_ready=True)
    assert answer.reason == stubs.pb.REASON_DANE_REQUIRED


def test_a_port_in_use_is_refused_at_start(danegated_bin, lab, start):
    """gRPC alone would set SO_REUSEPORT and let a second danegated share the
    port (and its clients) with the first, each with its own configuration."""
    first = start(*lab.resolver_args(), "--health-listen=127.0.0.1:0")
    for flag, port, other in [("--listen", first.port, []),
                              ("--health-listen", first.health_port, ["--listen=127.0.0.1:0"])]:
        args = [danegated_bin, *lab.resolver_args(), *other, f"{flag}=127.0.0.1:{port}"]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert out.returncode == 69, out
        assert f"{flag} 127.0.0.1:{port}: cannot listen (another process has the port)" \
            in out.stderr, out.stderr


def write_secret_version(secret, version, files):
    """Writes a Kubernetes-style Secret volume: the files in a directory of
    their own, `..data` a symlink to it swapped atomically (rename), and each
    name a symlink through `..data`, as the kubelet updates a mounted Secret."""
    version_dir = secret / f"..{version}"
    version_dir.mkdir()
    for name, content in files.items():
        (version_dir / name).write_text(content)
    tmp = secret / "..data_tmp"
    tmp.symlink_to(version_dir.name)
    os.rename(tmp, secret / "..data")
    for name in files:
        link = secret / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")


def test_renewed_certificate_is_served_without_a_restart_or_a_failed_call(stubs, lab, start,
                                                                       tmp_path):
    """A cert-manager renewal (the Secret's files swapped under the pod):
    new connections get the new certificate within --tls-reload-interval,
    calls on the connections already open go on, none fails."""
    import ssl
    import threading
    from certs import issue
    ca = issue("renewal CA", ca=True, days=30)
    old, new = (issue("localhost", sans=["localhost"], issuer=ca) for _ in range(2))
    client = issue("mta1.fleet.test", sans=["mta1.fleet.test"], issuer=ca)
    secret = tmp_path / "secret"
    secret.mkdir()
    write_secret_version(secret, "v1", {"tls.crt": old.pem(), "tls.key": old.key_pem(),
                                        "ca.crt": ca.pem()})
    (tmp_path / "client.pem").write_text(client.pem())
    (tmp_path / "client.key").write_text(client.key_pem())
    d = start(*lab.resolver_args(), f"--tls-cert={secret}/tls.crt",
              f"--tls-key={secret}/tls.key", f"--client-ca={secret}/ca.crt",
              "--tls-reload-interval=1s")

    def served():
        context = ssl.create_default_context(cadata=ca.pem())
        context.load_cert_chain(tmp_path / "client.pem", tmp_path / "client.key")
        context.set_alpn_protocols(["h2"])
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)

    credentials = grpc.ssl_channel_credentials(ca.pem().encode(), client.key_pem().encode(),
                                               client.pem().encode())
    calls, failures, stop = [0], [], threading.Event()

    def load(channel):
        validator = stubs.rpc.ValidatorStub(channel)
        while not stop.is_set():
            try:
                validator.ResolvePolicy(stubs.pb.ResolvePolicyRequest(domain="d-311.dane.test"),
                                        timeout=10)
                calls[0] += 1
            except grpc.RpcError as e:
                failures.append(e.code())

    with grpc.secure_channel(f"localhost:{d.port}", credentials) as channel:
        worker = threading.Thread(target=load, args=(channel,))
        worker.start()
        try:
            assert served() == old.der()
            write_secret_version(secret, "v2", {"tls.crt": new.pem(), "tls.key": new.key_pem(),
                                                "ca.crt": ca.pem()})
            renewed_at = calls[0]
            deadline = time.monotonic() + 20
            while served() != new.der():
                assert time.monotonic() < deadline, "the renewed certificate was never served"
                time.sleep(0.2)
            # The connection opened before the renewal keeps carrying calls.
            deadline = time.monotonic() + 10
            while calls[0] < renewed_at + 10:
                assert time.monotonic() < deadline, "calls stopped after the renewal"
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join()
    assert failures == []
    # A new client after the renewal: verified against the same CA.
    with grpc.secure_channel(f"localhost:{d.port}", credentials) as channel:
        answer = stubs.rpc.ValidatorStub(channel).ResolvePolicy(
            stubs.pb.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=10)
    assert answer.reason == stubs.pb.REASON_DANE_REQUIRED


def start_hanging_calls(stubs, d, channel, prefix, count=5):
    """Starts `count` ResolvePolicy calls for uncached names (the upstream
    never answers) and returns their futures once danegated has them all."""
    validator = stubs.rpc.ValidatorStub(channel)
    futures = [validator.ResolvePolicy.future(
        stubs.pb.ResolvePolicyRequest(domain=f"{prefix}{i}.dane.test"), timeout=30)
        for i in range(count)]
    deadline = time.monotonic() + 10
    while d.metric("danegate_rpcs_in_flight") != count:
        assert time.monotonic() < deadline, "RPCs never reached the server"
        time.sleep(0.02)
    return futures


def test_sigterm_finishes_rpcs_in_flight_and_exits_0(stubs, lab, start):
    # Upstream never answers: each RPC waits for its 2 s DNS timeout.
    d = start(*lab.resolver_args(lab.blackhole.address), "--dns-timeout=2s",
              "--grace-period=20s", wait_serving=False)
    with grpc.insecure_channel(d.address) as channel:
        futures = start_hanging_calls(stubs, d, channel, "d")
        status = d.terminate()
        answers = [f.result() for f in futures]
    assert status == 0
    assert all((a.action, a.reason) == (stubs.pb.ACTION_DEFER, stubs.pb.REASON_DNS_FAILURE)
               for a in answers)


@pytest.mark.parametrize("args,message", [
    (["--listen=0.0.0.0:0"], "is not loopback"),
    (["--listen=nonsense"], "want ADDR:PORT"),
    (["--listen=mail.example:50051"], "not a numeric address"),
    (["--max-connections=0"], "--max-connections '0': want 1..1000000"),
    (["--tls-cert=/nonexistent.pem", "--tls-key=/nonexistent.key"], "cannot be read"),
    (["--tls-cert=/etc/hostname"], "--tls-cert and --tls-key go together"),
    (["--allow-client=x"], "needs --client-ca"),
    (["--max-concurrent-streams=0"], "--max-concurrent-streams '0': want 1..10000"),
    (["--memory-quota-bytes=1000"], "--memory-quota-bytes '1000': want 16777216.."),
    (["--handshake-timeout=0s"], "--handshake-timeout"),
    (["--max-connection-age=forever"], "--max-connection-age"),
    (["--resolution=stub"], "needs at least one --upstream"),
    (["--cache-max-entries=lots"], "--cache-max-entries"),
    (["--grace-period=forever"], "--grace-period"),
    (["--no-such-flag"], "unknown option"),
    (["--trust-anchor=/nonexistent"], "cannot be read"),
])
def test_bad_configuration_is_refused_at_start(danegated_bin, args, message):
    out = subprocess.run([danegated_bin, *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 64, out
    assert message in out.stderr


def test_help_documents_every_flag(danegated_bin):
    out = subprocess.run([danegated_bin, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    for flag in ["--listen", "--tls-cert", "--tls-key", "--client-ca", "--allow-client",
                 "--unsafe-plaintext-on-network", "--metrics-listen", "--audit-log",
                 "--resolution", "--upstream", "--trust-anchor", "--dns-timeout",
                 "--cache-max-entries", "--cache-max-ttl", "--cache-max-negative-ttl",
                 "--cache-failure-ttl", "--grace-period", "--health-interval",
                 "--max-request-bytes", "--max-connections", "--tls-reload-interval",
                 "--insecure-mx-policy", "--version"]:
        assert flag in out.stdout, flag


def test_every_binary_reports_its_release(danegated_bin, danegate, adapter_bin, lab, start):
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        version = re.search(r"project\(danegate VERSION (\S+)", f.read()).group(1)
    for binary, name in [(danegated_bin, "danegated"), (danegate, "danegate"),
                         (adapter_bin, "danegate-agent")]:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        assert (out.returncode, out.stdout) == (0, f"{name} {version}\n"), out
    d = start(*lab.resolver_args())
    assert d.metric(f'danegate_build_info{{version="{version}"}}') == 1


def test_client_deadline_is_honoured(cli, lab, start):
    # The upstream never answers and DNS may take 3 s; the caller's 500 ms
    # deadline ends the call, and the CLI defers (75), never delivers.
    d = start("--resolution=stub", f"--upstream={lab.blackhole.address}",
              f"--trust-anchor={lab.trust_anchor}", "--dns-timeout=3s", wait_serving=False)
    out = cli.run("policy", f"--server={d.address}", "--timeout=500ms", "d-311.dane.test")
    assert out.returncode == 75
    assert "DEADLINE_EXCEEDED" in out.stderr


def test_health_port_serves_health_alone_in_plaintext(stubs, lab, start, pki):
    """--health-listen: what a Kubernetes gRPC probe (no TLS) can ask, while
    the Validator stays behind mutual TLS."""
    d = start(*lab.resolver_args(), f"--tls-cert={pki['server']}",
              f"--tls-key={pki['server_key']}", f"--client-ca={pki['ca']}",
              "--health-listen=127.0.0.1:0")
    assert d.health_port not in (0, d.port)
    with grpc.insecure_channel(f"127.0.0.1:{d.health_port}") as channel:
        health = stubs.health_rpc.HealthStub(channel)
        serving = stubs.health_pb.HealthCheckResponse.SERVING
        assert health.Check(stubs.health_pb.HealthCheckRequest(), timeout=10).status == serving
        assert health.Check(stubs.health_pb.HealthCheckRequest(service="liveness"),
                            timeout=10).status == serving
        with pytest.raises(grpc.RpcError) as e:
            stubs.rpc.ValidatorStub(channel).ResolvePolicy(
                stubs.pb.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=10)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        d.daemon.proc.send_signal(signal.SIGTERM)
        assert d.daemon.proc.wait(timeout=30) == 0


def test_sigterm_ends_within_the_grace_period_though_dns_hangs(stubs, lab, start):
    # Upstream never answers and each query may wait 5 s, a chain of them
    # longer: at the end of a 1 s grace the lookups are failed, the calls
    # deferred, and the process exits (Kubernetes' termination grace holds).
    d = start(*lab.resolver_args(lab.blackhole.address), "--dns-timeout=5s",
              "--grace-period=1s", wait_serving=False)
    with grpc.insecure_channel(d.address) as channel:
        futures = start_hanging_calls(stubs, d, channel, "g")
        started = time.monotonic()
        status = d.terminate()
        took = time.monotonic() - started
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result().action)
            except grpc.RpcError as e:
                outcomes.append(e.code())
    assert status == 0
    assert took < 4, f"exit took {took:.1f} s after SIGTERM with a 1 s grace"
    # Never a deliver: a deferral or a cancelled call (the MTA defers).
    assert stubs.pb.ACTION_DELIVER not in outcomes, outcomes
