"""Every lab scenario through `danegate policy --local` and
`danegate verify --local`: action, reason, each host's TLS mode, and the
exit status an MTA script would act on."""
import os

import pytest

from scenarios import SCENARIOS

EXIT = {"deliver": 0, "defer": 75, "reject": 69}


def resolver_args(lab, scenario):
    if os.environ.get("DANEGATE_RESOLVER") in scenario.wrong_on:
        pytest.skip(f"known wrong on {os.environ['DANEGATE_RESOLVER']}")
    if scenario.resolver == "blackhole":
        return lab.resolver_args(lab.blackhole.address) + ["--dns-timeout=1s"]
    return lab.resolver_args()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_policy(cli, lab, scenario):
    status, got = cli.json("policy", "--local", *resolver_args(lab, scenario), scenario.domain)
    assert (got["action"], got["reason"]) == (scenario.action, scenario.reason), got["detail"]
    assert [(h["host"], h["tls"]) for h in got["mx"]] == scenario.hosts
    assert status == EXIT[scenario.action]
    assert got["domain"] == scenario.domain
    for host in got["mx"]:
        if host["tls"] in ("dane", "mandatory"):
            assert host["dnssec"] == "secure" and host["tlsa"], host
        if host["tls"] == "unreachable":
            assert host["dnssec"] in ("bogus", "indeterminate", "insecure"), host
            # A failed lookup proves nothing: never "secure" or "insecure".
            if host.get("reason") == "dns_failure":
                assert host["dnssec"] == "indeterminate", host
            if host.get("reason") == "dnssec_bogus":
                assert host["dnssec"] == "bogus", host


VERIFY_CASES = [(s, v) for s in SCENARIOS for v in s.verify]


@pytest.mark.parametrize("scenario,case", VERIFY_CASES,
                         ids=[f"{s.name}: {v.mx} with {v.chain}" for s, v in VERIFY_CASES])
def test_verify(cli, lab, scenario, case):
    status, got = cli.json("verify", "--local", *resolver_args(lab, scenario), scenario.domain,
                           "--mx", case.mx, "--chain", lab.certs.chain_file(case.chain))
    assert (got["action"], got["authenticated"], got["reason"]) == (
        case.action, case.authenticated, case.reason), got["detail"]
    assert status == EXIT[case.action]
    if case.authenticated:
        assert got["matched_tlsa"] is not None
        assert got["matched_tlsa"] in got["mx"][0]["tlsa"]
    else:
        assert got["matched_tlsa"] is None
