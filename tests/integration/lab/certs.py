"""Test certificates for the DNSSEC lab, minted at run time.

A self-signed DANE-EE server certificate, a root -> intermediate -> leaf
chain for DANE-TA, a leaf with the wrong name, and an unrelated certificate;
plus the TLSA association data that matches each.
"""
import datetime
import hashlib
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Cert:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def spki_der(self):
        return self.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()

    def tlsa_data(self, selector, mtype):
        """Returns the hex association data for this certificate."""
        data = self.der() if selector == 0 else self.spki_der()
        if mtype == 1:
            data = hashlib.sha256(data).digest()
        elif mtype == 2:
            data = hashlib.sha512(data).digest()
        return data.hex()

    def tlsa(self, usage, selector, mtype):
        return f"{usage} {selector} {mtype} {self.tlsa_data(selector, mtype)}"


def issue(cn, sans=(), ca=False, issuer=None, days=30):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(cn))
               .issuer_name(issuer.cert.subject if issuer else _name(cn))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=True, encipher_only=False,
                          decipher_only=False), critical=True)
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    signer = issuer.key if issuer else key
    return Cert(builder.sign(signer, hashes.SHA256()), key)


def oversized_certificate():
    """Returns a certificate over 64 KiB (many SAN names): the size limit's
    test case."""
    names = [f"host{i:05d}-{'x' * 40}.example" for i in range(1400)]
    return issue("big.example", sans=names)


class CertSet:
    """Every certificate the scenarios refer to, by name, with PEM files."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ee = issue("mx-ee.dane.test", sans=["mx-ee.dane.test"])
        self.other = issue("other.dane.test", sans=["other.dane.test"])
        self.root = issue("danegate lab root CA", ca=True, days=365)
        self.inter = issue("danegate lab intermediate CA", ca=True, issuer=self.root, days=365)
        self.ta_leaf = issue("mx-ta.dane.test", sans=["mx-ta.dane.test", "mx-ta-notsent.dane.test",
                                                      "mx-ta-key.dane.test",
                                                      "mx-ta-full.dane.test"],
                             issuer=self.inter)
        self.ta_wrong = issue("wrong.example", sans=["wrong.example"], issuer=self.inter)
        # Names only the recipient domain (RFC 7672 §3.2.2: the next-hop
        # domain is a reference identifier), not the MX host.
        self.ta_domain = issue("d-ta-domain.dane.test", sans=["d-ta-domain.dane.test"],
                               issuer=self.inter)
        # A second, unrelated CA: what one MX host's TLSA record trusts must
        # not make another host's certificate from it pass.
        self.root2 = issue("danegate lab second root CA", ca=True, days=365)
        self.ta2_leaf = issue("mx-ta2.dane.test", sans=["mx-ta2.dane.test", "mx-ta-mitm.dane.test"],
                              issuer=self.root2)
        # Chains as a server would send them, leaf first.
        self.chains = {
            "ee": [self.ee],
            "other": [self.other],
            "ta": [self.ta_leaf, self.inter, self.root],
            "ta_no_root": [self.ta_leaf, self.inter],
            "ta_wrong_name": [self.ta_wrong, self.inter, self.root],
            "ta_domain": [self.ta_domain, self.inter, self.root],
            "ta2": [self.ta2_leaf, self.root2],
        }
        for name, chain in self.chains.items():
            with open(self.chain_file(name), "w") as f:
                f.write("".join(c.pem() for c in chain))
            with open(os.path.join(directory, f"{name}.key"), "w") as f:
                f.write(chain[0].key_pem())

    def chain_file(self, name):
        return os.path.join(self.dir, f"{name}.pem")

    def key_file(self, name):
        return os.path.join(self.dir, f"{name}.key")
