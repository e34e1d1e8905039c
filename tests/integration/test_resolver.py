"""The resolver edge against the real lab: IPv6 upstreams, danegate's own
DNSSEC validation (the upstream's AD bit is not trusted), and a resolver
that disappears."""
import pytest


def test_ipv6_upstream(cli, lab):
    if not lab.resolver6:
        pytest.skip("no IPv6 loopback here")
    status, got = cli.json("policy", "--local", *lab.resolver_args(lab.resolver6),
                           "d-311.dane.test")
    assert (status, got["reason"]) == (0, "dane_required")


def test_wrong_trust_anchor_makes_everything_bogus(cli, lab, tmp_path):
    # Unbound validates with the right anchor and sets AD; danegate, holding
    # an anchor for a different key, must find the data bogus and defer.
    wrong = lab.trust_anchor_for_other_key(str(tmp_path))
    args = [a for a in lab.resolver_args() if not a.startswith("--trust-anchor=")]
    status, got = cli.json("policy", "--local", *args, f"--trust-anchor={wrong}",
                           "d-311.dane.test")
    assert (status, got["action"], got["reason"]) == (75, "defer", "dnssec_bogus")


def test_resolver_stopped_then_back(cli, private_lab):
    lab = private_lab
    status, got = cli.json("policy", "--local", *lab.resolver_args(), "d-311.dane.test")
    assert got["action"] == "deliver"
    lab.stop_resolver()
    try:
        status, got = cli.json("policy", "--local", *lab.resolver_args(), "--dns-timeout=1s",
                               "d-311.dane.test")
        assert (status, got["action"], got["reason"]) == (75, "defer", "dns_failure")
    finally:
        lab.start_resolver()
    status, got = cli.json("policy", "--local", *lab.resolver_args(), "d-311.dane.test")
    assert (status, got["action"]) == (0, "deliver")
