"""Real Postfix 3.7 enforces danegated's verdicts through danegate-agent:
DNS from the DNSSEC lab, real TLS to a real receiving Exim, all inside a
network namespace of this test's own. Postfix's own DNS lookups go to the
lab's validating resolver too, so the DNSSEC-failure cases use domains whose
MX and address records are fine and only the TLSA records are not."""
import os
import re

import pytest

from postfix_fixtures import PostfixEnv, postfix_installed

pytestmark = [
    pytest.mark.skipif(not postfix_installed(),
                       reason="no Postfix in the test prefix (scripts/install-test-postfix.sh)"),
]


@pytest.fixture(scope="module")
def env(danegated_bin, adapter_bin):
    e = PostfixEnv(os.path.abspath(danegated_bin), os.path.abspath(adapter_bin)).start()
    yield e
    e.stop()


def sent_verified(env, domain, mx):
    qid, marker = env.submit(f"user@{domain}")
    line = env.wait_outcome(qid)
    log = env.log_for(qid)
    assert "status=sent" in line, log
    assert f"Verified TLS connection established to {mx}" in env.tls_line_for(qid), log
    assert env.received(domain, marker)


def deferred(env, domain):
    """Submits to `domain`, asserts it is deferred and kept; returns the
    status line and the queue id."""
    qid, marker = env.submit(f"user@{domain}")
    line = env.wait_outcome(qid)
    assert "status=deferred" in line, env.log_for(qid)
    assert env.queued(qid)
    assert not env.received(domain, marker)
    return line, qid, marker


@pytest.mark.parametrize("domain,mx", [
    ("d-311.dane.test", "mx-311.dane.test"),   # fingerprint match= SPKI digest
    ("d-301.dane.test", "mx-301.dane.test"),   # fingerprint match= certificate digest
    ("d-ta-full.dane.test", "mx-ta-full.dane.test"),  # secure tafile=, chain sent
    ("d-ta-key.dane.test", "mx-ta-key.dane.test"),    # secure tafile= key, TA not sent
    ("d-ta.dane.test", "mx-ta.dane.test"),   # 2 1 1: secure tafile= the key found in the chain
    ("d-bogus-second.dane.test", "mx-311.dane.test"),  # first MX bogus, second DANE
])
def test_dane_match_is_sent_verified(env, domain, mx):
    sent_verified(env, domain, mx)
    if "-ta" in domain:
        # smtp(8) is chrooted in the queue directory: the trust-anchor file
        # is named as it sees it (--postfix-chroot), and it read it.
        replies = [l["reply"] for l in env.adapter.lookups()
                   if l["request"] == f"tls_policy {domain}"]
        assert replies and all(r.startswith("OK secure tafile=/danegate-ta/ta-")
                               for r in replies), replies


def test_mismatch_is_deferred_and_stays_queued(env):
    line, _, _ = deferred(env, "d-mismatch.dane.test")
    assert "dsn=4.7.5" in line and "Server certificate not verified" in line


def test_digest_dane_ta_not_in_the_chain_is_deferred_with_the_reason(env):
    # 2 1 1 names the root, which the host does not send: no trust anchor to
    # give Postfix, so no policy (Postfix alone would deliver at "may").
    deferred(env, "d-ta-notsent.dane.test")
    assert any(l["request"] == "tls_policy d-ta-notsent.dane.test"
               and l["reply"].startswith("TEMP tlsa_not_expressible: trust anchors not found")
               and "trust anchors not found: mx-ta-notsent.dane.test: no certificate" in l["reply"]
               for l in env.adapter.lookups()), env.adapter.lookups()
    # The adapter did fetch the chain (and logged it): the anchor is not in it.
    env.adapter.wait_for([r'"msg":"chain fetch".*"host":"mx-ta-notsent.dane.test"'
                          r'.*"result":"2 certificates"'])
    # Postfix's own log shows the reason code first (it cuts the text).
    assert re.search(r"socketmap server temporary error: tlsa_not_expressible: trust anchors",
                     env.maillog_text()), env.maillog_text()[-2000:]


def test_failed_anchor_search_is_not_repeated_on_the_next_lookups(env):
    # A digest DANE-TA host that does not send its anchor: the agent connects
    # once, remembers that the anchor is absent, and the lookups Postfix
    # makes on each retry do not connect to the host again.
    host = "mx-ta-notsent.dane.test"
    deferred(env, "d-ta-notsent.dane.test")
    fetches = env.adapter.count(rf'"msg":"chain fetch".*"host":"{re.escape(host)}"')
    assert fetches == 1, fetches  # this test's first lookup, or an earlier test's
    lookups = env.adapter.count(r'"request":"tls_policy d-ta-notsent.dane.test"')
    for _ in range(3):  # postmap is Postfix's own socketmap client
        out = env.postfix("postmap", "-q", "d-ta-notsent.dane.test",
                          f"socketmap:inet:{env.adapter.address}:tls_policy")
        assert "tlsa_not_expressible" in out.stderr, out.stderr
    assert env.adapter.count(r'"request":"tls_policy d-ta-notsent.dane.test"') >= lookups + 3
    assert env.adapter.count(rf'"msg":"chain fetch".*"host":"{re.escape(host)}"') == fetches


def test_dane_ta_hosts_with_different_anchors_accept_only_their_own(env):
    # MX 10 trusts the lab's root but presents a certificate from the second
    # root, which MX 20's record trusts. One policy for both, merging their
    # anchors, would let MX 10's certificate pass: it must not.
    deferred(env, "d-ta-two.dane.test")
    assert any(l["request"] == "tls_policy d-ta-two.dane.test"
               and l["reply"].startswith("OK secure tafile=")
               and "match=mx-ta-mitm.dane.test" in l["reply"] and "mx-ta2" not in l["reply"]
               for l in env.adapter.lookups()), env.adapter.lookups()
    # The second host alone, its own anchor: delivered.
    qid, marker = env.submit("user@d-ta2.dane.test")
    assert "status=sent" in env.wait_outcome(qid), env.log_for(qid)
    assert env.received("d-ta2.dane.test", marker)


def test_all_unusable_without_starttls_is_deferred(env):
    line, _, _ = deferred(env, "d-unusable-notls.dane.test")
    assert "TLS is required, but was not offered" in line


def test_all_unusable_is_sent_over_unauthenticated_tls(env):
    qid, marker = env.submit("user@d-unusable.dane.test")
    assert "status=sent" in env.wait_outcome(qid), env.log_for(qid)
    assert "Untrusted TLS connection established to mx-unusable.dane.test" in \
        env.tls_line_for(qid)
    assert env.received("d-unusable.dane.test", marker)


def test_insecure_domain_is_sent(env):
    qid, marker = env.submit("user@insec.dane.test")
    assert "status=sent" in env.wait_outcome(qid), env.log_for(qid)
    assert env.received("insec.dane.test", marker)


@pytest.mark.parametrize("domain,reason", [
    ("d-tlsabogus.dane.test", "dnssec_bogus"),     # TLSA owner CNAME into a bogus zone
    ("d-tlsaservfail.dane.test", "dns_failure"),   # TLSA lookup fails
])
def test_tlsa_failure_is_deferred_with_the_reason(env, domain, reason):
    line, _, _ = deferred(env, domain)
    assert f"danegate: {reason}" in line or any(
        l["request"] == f"tls_policy {domain}" and l["reason"] == reason
        for l in env.adapter.lookups()), line


def test_bogus_mx_is_deferred(env):
    deferred(env, "expired.dane.test")


@pytest.mark.parametrize("domain,dsn,reason", [
    ("d-nullmx.dane.test", "5.1.10", "null_mx"),
    ("nonexistent.dane.test", "5.1.2", "domain_not_found"),
])
def test_rejected_domain_bounces_with_the_reason(env, domain, dsn, reason):
    qid, _ = env.submit(f"user@{domain}")
    line = env.wait_outcome(qid)
    assert "status=bounced" in line and f"dsn={dsn}" in line, env.log_for(qid)
    assert f"danegate: {reason}" in line
    env.wait_removed(qid)  # the queue manager drops it once the bounce is written
    assert not env.queued(qid)


def test_adapter_down_defers_then_sends_after_recovery(env):
    env.stop_adapter()
    try:
        # The transport table is asked first: Postfix cannot route the mail.
        line, qid, marker = deferred(env, "d-311.dane.test")
        assert "dsn=4.3.0" in line and "address resolver failure" in line, line
    finally:
        env.start_adapter()
    env.flush(qid)
    env.wait_outcome(qid, status="sent")
    assert env.received("d-311.dane.test", marker)


def test_validator_down_defers_then_sends_after_recovery(env):
    env.stop_danegated()
    try:
        line, qid, marker = deferred(env, "d-301.dane.test")
        assert any(l["reason"] == "validator_unavailable" for l in env.adapter.lookups())
    finally:
        env.start_danegated()
    env.flush(qid)
    env.wait_outcome(qid, status="sent")
    assert env.received("d-301.dane.test", marker)
