"""`danegate probe` and `danegate tlsa --host` against real STARTTLS
receivers: Exim with STARTTLS on 127.0.0.1:25 and [::1]:25 (certificate by
SNI), Exim without it on 127.0.0.2:25, nothing on 127.0.0.3, inside a
network namespace with the DNSSEC lab as its resolver and danegated beside
them. Each case asserts what an MTA would meet at each address."""
import json
import os
import shutil
import subprocess

import pytest

from mail_fixtures import MailNamespace

pytestmark = [
    pytest.mark.skipif(shutil.which("exim4") is None, reason="exim4 not installed"),
]


class ReceiversOnly(MailNamespace):
    """The lab, danegated and the receivers; no sending MTA."""

    def _start_sender(self):
        pass


@pytest.fixture(scope="module")
def env(danegated_bin):
    e = ReceiversOnly(os.path.abspath(danegated_bin), "probe").start()
    yield e
    e.stop()


def danegate(env, cli, *args):
    return subprocess.run([*env.prefix, cli.path, *args], capture_output=True, text=True, timeout=120)


def probe(env, cli, domain, remote=False):
    where = ["--server=127.0.0.1:50051"] if remote else ["--local", *env.lab.resolver_args()]
    got = danegate(env, cli, "probe", *where, "--host-timeout=10s", "--json", domain)
    assert got.stdout, got.stderr
    return got.returncode, json.loads(got.stdout)


def addresses(report):
    """{(host, address): (action, reason)} over the probed addresses."""
    return {(h["host"], a["address"]): (a["action"], a["reason"])
            for h in report["hosts"] for a in h["addresses"]}


@pytest.mark.parametrize("remote", [False, True], ids=["local", "danegated"])
def test_matching_host_authenticates_on_ipv4_and_ipv6(env, cli, remote):
    rc, report = probe(env, cli, "d-311.dane.test", remote)
    assert rc == 0, report
    assert report["action"] == "deliver"
    mx = "mx-311.dane.test"
    assert addresses(report) == {(mx, "127.0.0.1"): ("deliver", "dane_authenticated"),
                                 (mx, "::1"): ("deliver", "dane_authenticated")}
    for a in report["hosts"][0]["addresses"]:
        assert a["authenticated"] is True
        assert a["protocol"].startswith("TLSv1")
        # The record that matched is the one the lab published for the
        # certificate the receiver presents.
        assert a["matched_tlsa"] == {"usage": 3, "selector": 1, "matching_type": 1,
                                     "data": env.lab.certs.ee.tlsa_data(1, 1)}
        assert a["certificate_expires_in_seconds"] > 86400
    assert report["delivers_via"] == f"{mx} 127.0.0.1"


def test_mismatching_host_is_deferred_at_every_address(env, cli):
    rc, report = probe(env, cli, "d-mismatch.dane.test")
    assert rc == 75
    assert report["action"] == "defer" and report["reason"] == "dane_mismatch"
    assert set(addresses(report).values()) == {("defer", "dane_mismatch")}
    assert len(addresses(report)) == 2
    assert report["delivers_via"] == ""


def test_bogus_domain_is_not_connected_to(env, cli):
    rc, report = probe(env, cli, "d-bogus-alone.dane.test")
    assert rc == 75
    assert report["reason"] == "dnssec_bogus"
    assert report["hosts"] == []


def test_bogus_first_host_is_named_while_the_second_delivers(env, cli):
    rc, report = probe(env, cli, "d-bogus-second.dane.test")
    assert rc == 75, report
    first, second = report["hosts"]
    assert first["not_probed"] == "unreachable: dnssec_bogus" and first["addresses"] == []
    assert {a["action"] for a in second["addresses"]} == {"deliver"}
    assert report["reason"] == "dnssec_bogus"
    assert report["delivers_via"] == "mx-311.dane.test 127.0.0.1"


def test_dane_host_without_starttls_and_an_unanswering_host(env, cli):
    rc, report = probe(env, cli, "d-mixed-notls.dane.test")
    assert rc == 75
    assert addresses(report) == {
        ("mx-dane-notls.dane.test", "127.0.0.2"): ("defer", "starttls_not_offered"),
        ("mx-opp-unreach.dane.test", "127.0.0.3"): ("defer", "connect_failed"),
    }
    assert report["reason"] == "starttls_not_offered"


def test_opportunistic_host_without_starttls_takes_mail_in_cleartext(env, cli):
    rc, report = probe(env, cli, "plain.insec.dane.test")
    assert rc == 0, report
    assert addresses(report) == {("mx-plain.insec.dane.test", "127.0.0.2"):
                                 ("deliver", "starttls_not_offered")}


def test_ipv6_only_host(env, cli):
    rc, report = probe(env, cli, "d-v6only.dane.test")
    assert rc == 0, report
    assert addresses(report) == {("mx-v6only.dane.test", "::1"):
                                 ("deliver", "dane_authenticated")}


def test_report_for_people(env, cli):
    got = danegate(env, cli, "probe", "--local", *env.lab.resolver_args(), "d-mixed-notls.dane.test")
    assert got.returncode == 75
    assert "mx-dane-notls.dane.test (tls dane)" in got.stdout
    assert "127.0.0.2       defer   starttls_not_offered" in got.stdout
    assert "EHLO: STARTTLS not offered" in got.stdout
    assert "result  defer (starttls_not_offered)" in got.stdout


def test_tlsa_from_a_live_host_is_what_the_lab_publishes(env, cli):
    got = danegate(env, cli, "tlsa", "--host", "mx-311.dane.test", "--name", "mx-311.dane.test")
    assert got.returncode == 0, got.stderr
    assert got.stdout == ("_25._tcp.mx-311.dane.test. IN TLSA 3 1 1 "
                          f"{env.lab.certs.ee.tlsa_data(1, 1)}\n")


def test_tlsa_from_a_host_without_starttls_fails_clearly(env, cli):
    got = danegate(env, cli, "tlsa", "--host", "mx-dane-notls.dane.test")
    assert got.returncode == 75
    assert got.stdout == ""
    assert "127.0.0.2:25: EHLO: STARTTLS not offered" in got.stderr


def test_usage_errors(env, cli):
    for args, message in [
        (["tlsa", "--cert", "/dev/null", "--host", "mx"], "needs --cert or --host"),
        (["probe", "--local", "--host-timeout=0s", "d-311.dane.test"], "--host-timeout '0s'"),
        (["probe", "--local", "--helo-name=a b", "d-311.dane.test"], "--helo-name"),
        (["probe", "--local"], "needs exactly one DOMAIN"),
    ]:
        got = danegate(env, cli, *args)
        assert got.returncode == 64, (args, got.stderr)
        assert message in got.stderr
