"""`danegate tlsa`: the record to publish, byte for byte what the openssl
pipeline admins use today computes, for certificates, chains and keys; and
published into a signed zone, what makes `verify` authenticate."""
import hashlib
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from certs import issue


def openssl_spki_sha256(cert_pem_path):
    """openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_pem_path, "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def test_3_1_1_matches_the_openssl_pipeline_for_ec_and_rsa(cli, files):
    ec = issue("mx.example.org", sans=["mx.example.org"])
    rsa_cert = issue("mx.example.org", sans=["mx.example.org"])
    rsa_cert.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Re-issue with the RSA key (issue() makes EC keys).
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    rsa_cert.cert = (x509.CertificateBuilder().subject_name(ec.cert.subject)
                     .issuer_name(ec.cert.subject).public_key(rsa_cert.key.public_key())
                     .serial_number(7).not_valid_before(now)
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .sign(rsa_cert.key, hashes.SHA256()))
    for cert in (ec, rsa_cert):
        path = files("cert.pem", cert.pem())
        want = openssl_spki_sha256(path)
        out = cli.run("tlsa", "--cert", path)
        assert (out.returncode, out.stdout) == (0, f"3 1 1 {want}\n"), out
        # The same from the private key and from the public key alone.
        for key_pem in (cert.key_pem(), cert.key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo).decode()):
            out = cli.run("tlsa", "--cert", files("key.pem", key_pem))
            assert (out.returncode, out.stdout) == (0, f"3 1 1 {want}\n"), out


def test_every_selector_and_matching_type_and_the_owner_name(cli, files):
    cert = issue("mx.example.org", sans=["mx.example.org"])
    path = files("cert.pem", cert.pem())
    for selector in (0, 1):
        for mtype in (0, 1, 2):
            out = cli.run("tlsa", "--cert", path, f"--selector={selector}", f"--mtype={mtype}")
            assert out.stdout == cert.tlsa(3, selector, mtype) + "\n", out
    out = cli.run("tlsa", "--cert", path, "--name=MX.Example.org", "--port=465")
    assert out.stdout == f"_465._tcp.mx.example.org. IN TLSA {cert.tlsa(3, 1, 1)}\n"
    _, got = cli.json("tlsa", "--cert", path, "--name=mx.example.org")
    assert got == {"owner": "_25._tcp.mx.example.org.", "usage": 3, "selector": 1,
                   "matching_type": 1, "data": cert.tlsa_data(1, 1)}


def test_dane_ta_names_the_issuer_at_depth(cli, lab):
    chain = lab.certs.chain_file("ta")  # leaf, intermediate, root
    out = cli.run("tlsa", "--cert", chain, "--usage=2")
    assert out.stdout == lab.certs.inter.tlsa(2, 1, 1) + "\n", out
    out = cli.run("tlsa", "--cert", chain, "--usage=2", "--depth=2", "--selector=0", "--mtype=0")
    assert out.stdout == lab.certs.root.tlsa(2, 0, 0) + "\n", out


@pytest.mark.parametrize("args,status,message", [
    (["--usage=1"], 65, "2 (DANE-TA) and 3 (DANE-EE) only"),
    (["--usage=2"], 65, "holds 1 certificate(s); --depth 1 needs 2"),
    (["--usage=3", "--depth=1"], 65, "DANE-EE(3) names the leaf"),
    (["--selector=2"], 65, "--selector '2': want 0..1"),
    (["--mtype=x"], 65, "--mtype 'x'"),
    (["--name=bad..name"], 65, "--name"),
])
def test_bad_input_is_a_clear_error(cli, files, args, status, message):
    cert = issue("mx.example.org", sans=["mx.example.org"])
    out = cli.run("tlsa", "--cert", files("c.pem", cert.pem()), *args)
    assert out.returncode == status, out
    assert message in out.stderr and out.stdout == ""


def test_a_key_file_gives_selector_1_and_garbage_is_refused(cli, files):
    cert = issue("mx.example.org", sans=["mx.example.org"])
    out = cli.run("tlsa", "--cert", files("k.pem", cert.key_pem()), "--selector=0")
    assert out.returncode == 65 and "--selector 1" in out.stderr
    out = cli.run("tlsa", "--cert", files("g.pem", "hello\n"))
    assert out.returncode == 65 and "not a PEM certificate, public key or private key" in out.stderr
    assert cli.run("tlsa").returncode == 64


def test_published_record_makes_verify_authenticate(cli, private_lab):
    """The round trip: the printed line into the signed zone, and a peer
    presenting that certificate is authenticated; another is not."""
    lab = private_lab
    out = cli.run("tlsa", "--cert", lab.certs.chain_file("other"), "--name=mx-new.dane.test")
    assert out.returncode == 0, out
    lab.update_dane_test([out.stdout.strip(), "mx-new A 127.0.0.1", "d-new MX 10 mx-new"])
    status, got = cli.json("verify", "--local", *lab.resolver_args(), "d-new.dane.test",
                           "--mx", "mx-new.dane.test", "--chain", lab.certs.chain_file("other"))
    assert (status, got["action"], got["authenticated"]) == (0, "deliver", True), got["detail"]
    status, got = cli.json("verify", "--local", *lab.resolver_args(), "d-new.dane.test",
                           "--mx", "mx-new.dane.test", "--chain", lab.certs.chain_file("ee"))
    assert (status, got["reason"]) == (75, "dane_mismatch"), got["detail"]
