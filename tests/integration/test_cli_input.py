"""Bad input to danegate: a clear message and exit 65 (bad data) or 64
(usage), never a crash, never a verdict."""
import os

import pytest

from certs import oversized_certificate

LONG_LABEL = "a" * 64 + ".example"
LONG_NAME = ".".join(["abcdefghi"] * 26) + ".example"  # > 253 octets


@pytest.mark.parametrize("domain,message", [
    ("", "domain: empty name"),
    (LONG_LABEL, "label 1 is 64 octets"),
    (LONG_NAME, "the limit is 253"),
    ("exa mple.com", "contains ' '"),
    ("example.com/trailing", "contains '/'"),
    ("example.com;rm", "contains ';'"),
    ("b\u00fccher.example", "A-label"),
    ("192.0.2.1", "numeric"),
    ("a..example", "label 2 is empty"),
])
def test_invalid_domain_is_bad_data(cli, lab, domain, message):
    out = cli.run("policy", "--local", *lab.resolver_args(), domain)
    assert out.returncode == 65, out
    assert message in out.stderr
    assert out.stdout == ""


def test_invalid_mx_host_is_bad_data(cli, lab):
    out = cli.run("verify", "--local", *lab.resolver_args(), "d-311.dane.test",
                  "--mx", "mx*311.dane.test", "--chain", lab.certs.chain_file("ee"))
    assert out.returncode == 65
    assert "mx_host: label 1 contains '*'" in out.stderr


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    with open(path, mode) as f:
        f.write(content)
    return str(path)



@pytest.mark.parametrize("case,message", [
    ("missing", "cannot be read"),
    ("empty", "no PEM certificate"),
    ("garbage", "no PEM certificate"),
    ("corrupt", "not a well-formed PEM certificate"),
    ("seventeen", "more than 16"),
    ("too_big", "the limit is 65536"),
])
def test_bad_chain_is_bad_data(cli, lab, tmp_path, case, message):
    ee = lab.certs.ee.pem()
    corrupt = ee[:60] + "!!!!" + ee[64:]
    files = {
        "missing": str(tmp_path / "absent.pem"),
        "empty": write(tmp_path, "empty.pem", ""),
        "garbage": write(tmp_path, "garbage.pem", "hello\n"),
        "corrupt": write(tmp_path, "corrupt.pem", corrupt),
        "seventeen": write(tmp_path, "17.pem", ee * 17),
        "too_big": write(tmp_path, "big.pem", oversized_certificate().pem()) if case == "too_big" else "",
    }
    for command in (["verify", "--local", *lab.resolver_args(), "d-311.dane.test",
                     "--mx", "mx-311.dane.test"],
                    ["match", "--tlsa", lab.certs.ee.tlsa(3, 1, 1), "--name", "mx.example"]):
        out = cli.run(*command, "--chain", files[case])
        assert out.returncode == 65, (command, out)
        assert message in out.stderr
        assert out.stdout == ""


@pytest.mark.parametrize("args,message", [
    ([], "needs exactly one DOMAIN"),
    (["a.example", "b.example"], "needs exactly one DOMAIN"),
    (["--bogus-flag", "a.example"], "unknown option '--bogus-flag'"),
    (["--resolution=stub", "a.example"], "--resolution=stub needs at least one --upstream"),
    (["--resolution=forward", "a.example"], "want 'recursive' or 'stub'"),
    (["--resolution=stub", "--upstream=localhost:53", "a.example"], "numeric"),
    (["--resolution=stub", "--upstream=127.0.0.1:99999", "a.example"], "1..65535"),
    (["--dns-timeout=soon", "a.example"], "--dns-timeout"),
    (["--port=0", "a.example"], "--port"),
])
def test_usage_errors(cli, args, message):
    out = cli.run("policy", "--local", *args)
    assert out.returncode == 64, out
    assert message in out.stderr
    assert "usage: danegate policy" in out.stderr


def test_remote_mode_needs_server(cli):
    out = cli.run("policy", "a.example")
    assert out.returncode == 64
    assert "--local" in out.stderr


def test_unknown_command_and_no_command(cli):
    assert cli.run("frobnicate").returncode == 64
    assert cli.run().returncode == 64


@pytest.mark.parametrize("command", ["policy", "verify", "match"])
def test_help_on_every_subcommand(cli, command):
    out = cli.run(command, "--help")
    assert out.returncode == 0
    assert out.stdout.startswith(f"usage: danegate {command}")
    for flag in ["--json", "--port"] + (["--upstream", "--trust-anchor", "--resolution"]
                                        if command != "match" else ["--tlsa", "--name"]):
        assert flag in out.stdout, flag


def test_top_level_help(cli):
    out = cli.run("--help")
    assert out.returncode == 0
    assert "policy DOMAIN" in out.stdout and "exit status" in out.stdout


@pytest.mark.parametrize("tlsa,message", [
    ("3 1 1", "want \"USAGE SELECTOR MTYPE HEX\""),
    ("3 1 1 xyz0", "not hexadecimal"),
    ("300 1 1 00", "not 0..255"),
])
def test_bad_tlsa_text_is_bad_data(cli, lab, tlsa, message):
    out = cli.run("match", "--tlsa", tlsa, "--chain", lab.certs.chain_file("ee"),
                  "--name", "mx.example")
    assert out.returncode == 65
    assert message in out.stderr


def test_bad_trust_anchor_files_are_refused(cli, lab, tmp_path):
    # getdns 1.6 silently ignores a broken trust-anchor file; danegate must not.
    for content, message in [(None, "cannot be read"),
                             ("this is not a zone file\n", "DNSKEY"),
                             ("dane.test. 300 IN A 127.0.0.1\n", "no DS or DNSKEY")]:
        path = str(tmp_path / "anchor") if content is None else write(tmp_path, "anchor", content)
        if content is None and os.path.exists(path):
            os.unlink(path)
        out = cli.run("policy", "--local", "--resolution=stub", f"--upstream={lab.resolver}",
                      f"--trust-anchor={path}", "d-311.dane.test")
        assert out.returncode == 65, out
        assert message in out.stderr
