"""danegated through a fault-injecting DNS proxy (lab/dns_proxy.py) between
it and the lab's resolver: answers dropped, late, refused, forged, tampered
with or stripped of signatures, per query type, under concurrent load on
cold caches. For every answer the DANE invariant holds (no unauthenticated
deliver, no downgrade of a DANE host, no reject of a DANE domain), the
process survives every fault, and it is healthy again once the fault ends.

Runs on the default resolver backend; `DANEGATE_RESOLVER=getdns` runs it on
getdns 1.6, which does not survive it (see docs/danegated.md)."""
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from dnslab import Daemon
from scenarios import SCENARIOS
from service_fixtures import Danegated

HERE = os.path.dirname(os.path.abspath(__file__))
FAULTS = ["DNSKEY:drop", "DS:drop", "DNSKEY:delay=2", "DS:delay=2", "*:delay=2",
          "*:servfail", "*:refused", "MX:nxdomain", "TLSA:nxdomain", "TLSA:drop",
          "A:drop", "*:tamper", "*:strip"]
FAULT_SECONDS = 6
RECOVERY_SECONDS = 20
# Domains with DANE hosts (the invariant's subjects) and two without.
DOMAINS = ["d-311.dane.test", "d-301.dane.test", "d-ta.dane.test", "d-mismatch.dane.test",
           "d-cname-mx.dane.test", "d-tlsacname.dane.test", "d-ta-two.dane.test",
           "insec.dane.test", "d-notlsa.dane.test"]
DANE_HOSTS = {s.domain: {h for h, mode in s.hosts if mode == "dane"} for s in SCENARIOS}


def start_proxy(lab, tmp_path, *rules):
    """Starts lab/dns_proxy.py in front of the lab's resolver with `rules`;
    returns it (a Daemon) and the port it listens on."""
    proxy = Daemon("dns-proxy", [sys.executable, os.path.join(HERE, "lab", "dns_proxy.py"),
                                 "--listen=127.0.0.1", "--port=0",
                                 f"--upstream={lab.resolver}", *rules],
                   str(tmp_path / "proxy.log"))
    try:
        proxy.wait_for([r"^listening \d+"])
    except BaseException:
        proxy.stop()
        raise
    return proxy, int(proxy.search(r"^listening (\d+)").group(1))


def check_policy(answer, pb):
    """Returns why `answer` (a ResolvePolicyResponse) breaks the invariant,
    or None."""
    dane = DANE_HOSTS.get(answer.domain, set())
    if not dane:
        return None
    if answer.action == pb.ACTION_REJECT:
        return f"{answer.domain}: reject of a DANE domain ({pb.Reason.Name(answer.reason)})"
    for mx in answer.mx:
        if mx.host in dane and mx.tls not in (pb.TLS_MODE_DANE, pb.TLS_MODE_UNREACHABLE):
            return f"{answer.domain}: DANE host {mx.host} downgraded to {pb.TlsMode.Name(mx.tls)}"
    return None


def check_verify(answer, should_match, pb):
    if answer.action == pb.ACTION_DELIVER and not answer.authenticated:
        return f"{answer.domain}: unauthenticated deliver ({pb.Reason.Name(answer.reason)})"
    if answer.action == pb.ACTION_DELIVER and not should_match:
        return f"{answer.domain}: a mismatching chain delivered"
    if answer.action == pb.ACTION_REJECT:
        return f"{answer.domain}: VerifyPeer reject"
    return None


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_keeps_the_invariant_and_the_process(stubs, lab, danegated_bin, tmp_path, fault):
    proxy, port = start_proxy(lab, tmp_path, f"--fault={fault}",
                              f"--fault-seconds={FAULT_SECONDS}")
    d = None
    try:
        d = Danegated(danegated_bin, str(tmp_path / "d"),
                      [*lab.resolver_args(f"127.0.0.1:{port}"), "--dns-timeout=1s",
                       "--cache-failure-ttl=0s", "--health-interval=200ms"],
                      wait_serving=False)
        pb = stubs.pb
        ee = [c.der() for c in lab.certs.chains["ee"]]
        other = [c.der() for c in lab.certs.chains["other"]]
        with grpc.insecure_channel(d.address) as channel:
            validator = stubs.rpc.ValidatorStub(channel)
            calls = []
            for round_ in range(4):
                for domain in DOMAINS:
                    calls.append(("policy", pb.ResolvePolicyRequest(domain=domain)))
                calls.append(("verify", pb.VerifyPeerRequest(
                    domain="d-311.dane.test", mx_host="mx-311.dane.test", chain=ee), True))
                calls.append(("verify", pb.VerifyPeerRequest(
                    domain="d-311.dane.test", mx_host="mx-311.dane.test", chain=other), False))
                calls.append(("verify", pb.VerifyPeerRequest(
                    domain="d-mismatch.dane.test", mx_host="mx-mismatch.dane.test", chain=ee),
                    False))

            def call(entry):
                try:
                    if entry[0] == "policy":
                        return check_policy(validator.ResolvePolicy(entry[1], timeout=10), pb)
                    return check_verify(validator.VerifyPeer(entry[1], timeout=10), entry[2], pb)
                except grpc.RpcError as e:  # no answer: the MTA defers
                    assert e.code() in (grpc.StatusCode.DEADLINE_EXCEEDED,
                                        grpc.StatusCode.UNAVAILABLE), e
                    return None

            with ThreadPoolExecutor(32) as pool:
                broken = [b for b in pool.map(call, calls) if b]
            assert not broken, broken
            assert d.daemon.proc.poll() is None, f"danegated died under {fault}"
            # Healthy again once the fault is over: SERVING, and answering.
            proxy.wait_for([r"^fault over"], timeout=FAULT_SECONDS + 30)
            health = stubs.health_rpc.HealthStub(channel)
            watch = health.Watch(stubs.health_pb.HealthCheckRequest(service=""), timeout=60)
            for update in watch:
                if update.status == stubs.health_pb.HealthCheckResponse.SERVING:
                    break
            watch.cancel()
            # What the fault left in the resolvers' caches (failures for
            # seconds) may still answer at first: a bounded wait for recovery.
            deadline = time.monotonic() + RECOVERY_SECONDS
            while True:
                answer = validator.ResolvePolicy(
                    pb.ResolvePolicyRequest(domain="d-311.dane.test"), timeout=10)
                if answer.action == pb.ACTION_DELIVER or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert answer.action == pb.ACTION_DELIVER, answer
        assert d.daemon.proc.poll() is None, f"danegated died under {fault}"
    finally:
        if d is not None:
            d.stop()
        proxy.stop()


def test_burst_of_new_names_through_a_lossy_network_has_no_false_defers(stubs, lab,
                                                                        danegated_bin, tmp_path):
    # 1000 names never seen (in the unsigned zone: each needs its own
    # upstream queries), 10% of the queries lost at random: the resolver
    # paces its queries and retries the lost ones within the deadline, so
    # every name gets its real answer (it does not exist), none a defer.
    proxy, port = start_proxy(lab, tmp_path, "--fault=*:lose=0.1")
    d = None
    try:
        d = Danegated(danegated_bin, str(tmp_path / "d"),
                      lab.resolver_args(f"127.0.0.1:{port}"), wait_serving=False)
        pb = stubs.pb
        with grpc.insecure_channel(d.address) as channel:
            validator = stubs.rpc.ValidatorStub(channel)
            futures = [validator.ResolvePolicy.future(
                pb.ResolvePolicyRequest(domain=f"burst{i}.insec.dane.test"), timeout=30)
                for i in range(1000)]
            reasons = [pb.Reason.Name(f.result().reason) for f in futures]
        wrong = [r for r in reasons if r != "REASON_DOMAIN_NOT_FOUND"]
        assert not wrong, f"{len(wrong)} of 1000: {sorted(set(wrong))}"
    finally:
        if d is not None:
            d.stop()
        proxy.stop()


def test_a_call_past_its_deadline_stops_querying(stubs, lab, danegated_bin, tmp_path):
    """The client gives up after 0.1 s while the MX hosts' addresses take
    0.25 s to come (within the resolver's retransmission time, so they do
    come): the call then starts no TLSA lookup for either host (the proxy
    sees none), ends deferred as cancelled in the audit log, and
    danegate_requests_cancelled_total counts it. Without cancellation the
    same call asks both TLSA RRsets."""
    proxy, port = start_proxy(lab, tmp_path, "--fault=A:delay=0.25", "--fault=AAAA:delay=0.25")
    d = None
    try:
        d = Danegated(danegated_bin, str(tmp_path / "d"), lab.resolver_args(f"127.0.0.1:{port}"),
                      wait_serving=False)
        pb = stubs.pb
        with grpc.insecure_channel(d.address) as channel:
            validator = stubs.rpc.ValidatorStub(channel)
            with pytest.raises(grpc.RpcError) as err:
                validator.ResolvePolicy(pb.ResolvePolicyRequest(domain="d-ta-two.dane.test"),
                                        timeout=0.1)
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

        def ended(r):
            return r["domain"] == "d-ta-two.dane.test"
        lines = [r for r in d.wait_audit(0, ended, timeout=30) if ended(r)]
        assert lines, d.audit()
        assert (lines[0]["action"], lines[0]["reason"]) == ("defer", "dns_failure")
        assert "cancelled" in lines[0]["detail"]
        # Nothing asked after the call was given up.
        for host in ("mx-ta-mitm.dane.test", "mx-ta2.dane.test"):
            assert not proxy.search(rf"^query _25\._tcp\.{re.escape(host)} "), proxy.lines
        assert d.metric('danegate_requests_cancelled_total{rpc="ResolvePolicy"}') == 1
    finally:
        if d is not None:
            d.stop()
        proxy.stop()
