"""`danegate match`: a chain against given TLSA records, no DNS."""
import json


def match(cli, lab, chain, name, *records):
    args = ["match", "--json", "--chain", lab.certs.chain_file(chain), "--name", name]
    for r in records:
        args += ["--tlsa", r]
    out = cli.run(*args)
    return out.returncode, json.loads(out.stdout)


def test_dane_ee_match_and_mismatch(cli, lab):
    ee, other = lab.certs.ee, lab.certs.other
    status, got = match(cli, lab, "ee", "any.example", ee.tlsa(3, 1, 1))
    assert (status, got["action"], got["authenticated"], got["reason"]) == (
        0, "deliver", True, "dane_authenticated")
    assert got["matched_tlsa"]["data"] == ee.tlsa_data(1, 1)
    status, got = match(cli, lab, "ee", "any.example", other.tlsa(3, 1, 1))
    assert (status, got["action"], got["reason"]) == (75, "defer", "dane_mismatch")


def test_dane_ta_checks_the_name(cli, lab):
    root = lab.certs.root
    status, got = match(cli, lab, "ta", "mx-ta.dane.test", root.tlsa(2, 1, 1))
    assert (status, got["reason"]) == (0, "dane_authenticated")
    status, got = match(cli, lab, "ta", "elsewhere.example", root.tlsa(2, 1, 1))
    assert (status, got["reason"]) == (75, "dane_mismatch")


def test_unusable_records_mean_tls_unauthenticated(cli, lab):
    status, got = match(cli, lab, "ee", "any.example", lab.certs.ee.tlsa(1, 1, 1))
    assert (status, got["action"], got["authenticated"], got["reason"]) == (
        0, "deliver", False, "tlsa_unusable")
    assert got["mx"][0]["tls"] == "mandatory"
