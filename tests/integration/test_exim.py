"""Real Exim 4.96 with danegate_exim.so delivers, defers or bounces on
danegated's verdict, asked through a real danegate-agent: DNS from the
DNSSEC lab, real TLS to a real receiving Exim, all inside a network
namespace of this test's own. Every test runs against both sending Exim
builds: Debian's (GnuTLS) and one linked with OpenSSL."""
import os
import re
import shutil

import pytest

from exim_fixtures import EXIM_BUILDS, EximEnv

pytestmark = [
    pytest.mark.skipif(shutil.which("exim4") is None, reason="exim4 not installed"),
]


@pytest.fixture(scope="module", params=sorted(EXIM_BUILDS))
def env(request, danegated_bin, adapter_bin):
    exim = EXIM_BUILDS[request.param]
    if shutil.which(exim) is None:
        # setup.sh builds it; a missing build must not pass silently in CI.
        pytest.fail(f"no {request.param} Exim at {exim} (run scripts/setup.sh)")
    so = os.environ.get("DANEGATE_EXIM_SO") or os.path.join(
        os.path.dirname(os.path.dirname(danegated_bin)), "plugin", "danegate_exim.so")
    e = EximEnv(os.path.abspath(danegated_bin), os.path.abspath(so),
                os.path.abspath(adapter_bin), exim).start()
    yield e
    e.stop()


def test_matching_tlsa_is_received_authenticated(env):
    mid, marker = env.submit("user@d-311.dane.test")
    env.deliver(mid)
    assert env.received("d-311.dane.test", marker), env.log_for(mid)
    assert not env.queued(mid)
    log = env.log_for(mid)
    assert "danegate: d-311.dane.test via mx-311.dane.test: dane_authenticated TLSA 3 1 1" in log
    assert "X=TLS" in log and "authenticated_sender" not in log


def assert_stays_queued(env, domain, why):
    """Submits to user@`domain`, runs a delivery and asserts that nothing
    was received, the message is still queued and `why` is in its log;
    returns (message id, marker)."""
    mid, marker = env.submit(f"user@{domain}")
    env.deliver(mid)
    assert not env.received(domain, marker), env.log_for(mid)
    assert env.queued(mid)
    assert why in env.log_for(mid), env.log_for(mid)
    return mid, marker


def test_mismatching_tlsa_stays_queued_with_the_reason_logged(env):
    mid, _ = assert_stays_queued(env, "d-mismatch.dane.test", "danegate defer (dane_mismatch)")
    assert "==" in env.log_for(mid)  # a deferral, not a bounce


def test_bogus_domain_stays_queued(env):
    mid, marker = env.submit("user@d-bogus-alone.dane.test")
    env.deliver(mid)
    assert env.queued(mid)
    assert "danegate defer (dnssec_bogus)" in env.log_for(mid)


def test_insecure_domain_is_received_opportunistically(env):
    mid, marker = env.submit("user@insec.dane.test")
    env.deliver(mid)
    assert env.received("insec.dane.test", marker), env.log_for(mid)
    assert "insecure_no_dane" in env.log_for(mid)


def test_insecure_domain_without_starttls_is_received_in_cleartext(env):
    # Opportunistic means TLS if offered: the host list the router handed to
    # the transport ("! mx-plain... : *") lets this host go without TLS.
    mid, marker = env.submit("user@plain.insec.dane.test")
    env.deliver(mid)
    assert env.received("plain.insec.dane.test", marker, receiver="receiver-plain"), \
        env.log_for(mid)
    assert "X=TLS" not in env.log_for(mid)


def test_all_unusable_is_received_over_tls_only(env):
    mid, marker = env.submit("user@d-unusable.dane.test")
    env.deliver(mid)
    assert env.received("d-unusable.dane.test", marker), env.log_for(mid)
    assert "X=TLS" in env.log_for(mid)
    # The same policy, but the host offers no STARTTLS: never in cleartext.
    mid, marker = env.submit("user@d-unusable-notls.dane.test")
    env.deliver(mid)
    assert not env.received("d-unusable-notls.dane.test", marker)
    assert env.queued(mid), env.log_for(mid)


def test_first_mx_bogus_second_receives(env):
    mid, marker = env.submit("user@d-bogus-second.dane.test")
    env.deliver(mid)
    assert env.received("d-bogus-second.dane.test", marker), env.log_for(mid)
    assert "H=mx-311.dane.test" in env.log_for(mid)


def test_null_mx_bounces_with_the_reason(env):
    mid, marker = env.submit("user@d-nullmx.dane.test")
    env.deliver(mid)
    assert not env.queued(mid)
    dsn = env.bounce_for(mid, marker)
    assert "danegate reject (null_mx)" in dsn, env.sender.log()
    assert "user@d-nullmx.dane.test" in dsn


def test_two_domains_in_one_message_get_their_own_verdicts(env):
    mid, marker = env.submit("a@d-311.dane.test", "b@d-mismatch.dane.test")
    env.deliver(mid)
    assert env.received("d-311.dane.test", marker), env.log_for(mid)
    assert not env.received("d-mismatch.dane.test", marker)
    assert env.queued(mid)  # still queued for the mismatching recipient


def test_validator_down_then_back_nothing_lost(env):
    ready = env.agent.ready_count()
    env.stop_danegated()
    try:
        mid, marker = assert_stays_queued(env, "d-301.dane.test", "validator_unavailable")
    finally:
        env.start_danegated()
    env.agent.wait_validator_ready(ready)
    env.deliver(mid)
    assert env.received("d-301.dane.test", marker), env.log_for(mid)
    assert not env.queued(mid)


def test_agent_down_then_back_nothing_lost(env):
    env.agent.stop()
    env.daemons.remove(env.agent)
    try:
        mid, marker = assert_stays_queued(env, "d-311.dane.test",
                                          "danegate defer (agent_unavailable)")
    finally:
        env.agent = env.start_agent("agent", "127.0.0.1:50051")
    env.agent.wait_validator_ready(0)
    env.deliver(mid)
    assert env.received("d-311.dane.test", marker), env.log_for(mid)
    assert not env.queued(mid)


def test_validator_slower_than_the_deadline_defers(env):
    # A second danegated whose DNS never answers, and an agent with a 300 ms
    # deadline asking it. (Nothing listens on 127.0.0.9 in the namespace.)
    env.start_danegated(listen="127.0.0.1:50052", upstream="127.0.0.9:53",
                        extra=["--dns-timeout=3s"])
    slow = env.start_agent("agent-slow", "127.0.0.1:50052", extra=["--timeout=300ms"])
    slow_sender = env.make_sender(slow.path, "sender-slow")
    mid, marker = env.submit("user@d-312.dane.test", sender=slow_sender)
    env.deliver(mid, sender=slow_sender)
    assert env.queued(mid, sender=slow_sender)
    assert not env.received("d-312.dane.test", marker)
    assert "validator_unavailable" in env.log_for(mid, sender=slow_sender)


def test_parallel_queue_run_gives_each_message_its_verdict(env):
    want = {}
    for domain, ok in [("d-311", True), ("d-mismatch", False), ("d-ta", True),
                       ("d-312", True), ("d-agility", False), ("d-cname-mx", True),
                       ("insec", True), ("d-tlsabogus", False)] * 2:
        mid, marker = env.submit(f"user@{domain}.dane.test")
        want[mid] = (f"{domain}.dane.test", marker, ok)
    out = env.sender.run("-qff", timeout=180)  # remote_max_parallel = 4
    assert out.returncode == 0, out.stderr
    for mid in want:
        env.wait_stored(mid)
    for mid, (domain, marker, ok) in want.items():
        assert env.received(domain, marker) == ok, (domain, env.log_for(mid))
        assert env.queued(mid) == (not ok), (domain, env.log_for(mid))


def test_mixed_mx_opportunistic_name_with_the_dane_hosts_address_stays_queued(env):
    # Exim keeps one host per address (the DANE one, MX 10). Matching a
    # host list by name would compare addresses and let the DANE host go
    # without TLS: the denied handshake would be retried in cleartext.
    assert_stays_queued(env, "d-mixed-sameip.dane.test", "danegate defer (dane_mismatch)")


def test_mixed_mx_dane_host_without_starttls_stays_queued(env):
    assert_stays_queued(env, "d-mixed-notls.dane.test", "a TLS session is required")


def test_cname_opportunistic_mx_is_delivered(env):
    # $host is the CNAME's target: it must be exempt under that name too.
    mid, marker = env.submit("user@d-cname-opp.dane.test")
    env.deliver(mid)
    assert env.received("d-cname-opp.dane.test", marker, receiver="receiver-plain"), \
        env.log_for(mid)
    assert not env.queued(mid)


@pytest.mark.parametrize("rcode", ["servfail", "nxdomain"])
def test_opportunistic_name_failing_after_routing_stays_queued(env, rcode):
    # The sending Exim's DNS answers the opportunistic host's addresses once
    # (for routing), then fails them. Nothing in the transport may look the
    # name up again: a failed host-list lookup made TLS optional for every
    # host, and the denied DANE host was retried in cleartext.
    name = "mx-opp-flaky.dane.test"
    with env.mta_dns_through_proxy([f"{name}:A:1:{rcode}",
                                    f"{name}:AAAA:1:{rcode}"]) as proxy:
        assert_stays_queued(env, "d-mixed-flaky.dane.test", "danegate defer (dane_mismatch)")
        assert proxy.count(rf"^query {re.escape(name)} 1 answered") == 1  # routing used it
