"""The DNSSEC lab's scenarios: one data table, reused by every integration
test (the CLI now; the service and the MTA plugins later).

Each scenario names a recipient domain under the signed zone dane.test., the
records that make it, and what danegate must answer: the policy (action,
reason, each MX host's TLS mode) and, for some, VerifyPeer with a chain.
"""
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
TTL_TEST_SECONDS = 3  # TTL of the TLSA RRset the TTL-expiry test changes
LOOPBACK6 = "::1"


@dataclass
class Verify:
    mx: str            # MX host the MTA connected to
    chain: str         # key of CertSet.chains
    action: str
    authenticated: bool
    reason: str


@dataclass
class Scenario:
    name: str
    domain: str
    action: str
    reason: str
    hosts: list = field(default_factory=list)   # [(host, tls mode)] in MX order
    verify: list = field(default_factory=list)  # [Verify]
    resolver: str = "lab"                       # "lab" or "blackhole" (timeouts)
    # Resolver backends known to get this one wrong (skipped on them).
    wrong_on: tuple = ()


def _a(host):
    return [f"{host} A {LOOPBACK}", f"{host} AAAA {LOOPBACK6}"]


def dane_test_records(certs):
    """Records of the signed zone dane.test. (relative names)."""
    ee, other, root, inter = certs.ee, certs.other, certs.root, certs.inter
    weak_garbage = "00" * 64
    r = []
    # Hosts with TLSA records.
    for host, tlsa in [
        ("mx-311", [ee.tlsa(3, 1, 1)]),
        ("mx-301", [ee.tlsa(3, 0, 1)]),
        ("mx-312", [ee.tlsa(3, 1, 2)]),
        ("mx-ta", [root.tlsa(2, 1, 1)]),
        ("mx-ta-notsent", [root.tlsa(2, 1, 1)]),
        ("mx-ta-key", [root.tlsa(2, 1, 0)]),
        ("mx-ta-full", [root.tlsa(2, 0, 0)]),
        ("mx-mismatch", [other.tlsa(3, 1, 1)]),
        # RFC 7671 §9: SHA-512 present, so the matching SHA-256 is ignored.
        ("mx-agility", [ee.tlsa(3, 1, 1), f"3 1 2 {weak_garbage}"]),
        # Every record unusable: PKIX usages, unknown values, bad length.
        ("mx-unusable", [ee.tlsa(1, 1, 1), ee.tlsa(0, 0, 1), "3 1 1 " + "ab" * 20,
                         ee.tlsa(4, 1, 1), "3 2 1 " + "cd" * 32,
                         "3 1 7 " + "ef" * 32]),
        ("mx-cname-target", [ee.tlsa(3, 1, 1)]),
        ("alias", [other.tlsa(3, 1, 1)]),
        ("alias2", [ee.tlsa(3, 1, 1)]),
        ("d-nomx", [ee.tlsa(3, 1, 1)]),
    ]:
        if host not in ("alias", "alias2"):
            r += _a(host)
        r += [f"_25._tcp.{host} TLSA {t}" for t in tlsa]
    r += _a("mx-notlsa")
    r += _a("mx-plain2")
    r += ["alias CNAME mx-cname-target", "alias2 CNAME mx-plain2"]
    r += _a("mx-tlsacname") + ["_25._tcp.mx-tlsacname CNAME tlsa-target",
                                f"tlsa-target TLSA {ee.tlsa(3, 1, 1)}"]
    r += _a("mx-tlsabogus") + ["_25._tcp.mx-tlsabogus CNAME tlsa.expired"]
    r += _a("mx-tlsaservfail") + ["_25._tcp.mx-tlsaservfail CNAME tlsa.servfail"]
    # Recipient domains.
    mx = {
        "d-311": ["10 mx-311"], "d-301": ["10 mx-301"], "d-312": ["10 mx-312"],
        "d-ta": ["10 mx-ta"], "d-ta-wrongname": ["10 mx-ta"],
        "d-ta-notsent": ["10 mx-ta-notsent"], "d-ta-key": ["10 mx-ta-key"],
        "d-ta-full": ["10 mx-ta-full"],
        "d-mismatch": ["10 mx-mismatch"], "d-agility": ["10 mx-agility"],
        "d-unusable": ["10 mx-unusable"], "d-notlsa": ["10 mx-notlsa"],
        "d-insecaddr": ["10 mx.insec"],
        "d-bogus-alone": ["10 mx.badds"],
        "d-expired-alone": ["10 mx.expired"],
        "d-bogus-second": ["10 mx.expired", "20 mx-311"],
        "d-cname-mx": ["10 alias"], "d-cname-orig": ["10 alias2"],
        "d-tlsacname": ["10 mx-tlsacname"], "d-tlsabogus": ["10 mx-tlsabogus"],
        "d-tlsaservfail": ["10 mx-tlsaservfail"],
        "d-nullmx": ["0 ."],
    }
    for domain, records in mx.items():
        r += [f"{domain} MX {m}" for m in records]
    r += _a("d-nomx")
    # A host at 127.0.0.2, where the Exim tests run a receiver without
    # STARTTLS; its TLSA RRset has no usable record (TLS mandatory).
    r += ["mx-notls A 127.0.0.2", f"_25._tcp.mx-notls TLSA {ee.tlsa(1, 1, 1)}",
          "d-unusable-notls MX 10 mx-notls"]
    # Mixed MX sets for the MTA tests: an opportunistic host whose name
    # resolves to the DANE host's address; a DANE host without STARTTLS (at
    # 127.0.0.2) beside an opportunistic host nobody answers at (127.0.0.3);
    # an opportunistic MX that is a CNAME into the unsigned zone, so $host in
    # Exim is the expanded name.
    r += _a("mx-opp-sameip") + ["d-mixed-sameip MX 10 mx-mismatch",
                                "d-mixed-sameip MX 20 mx-opp-sameip"]
    r += ["mx-dane-notls A 127.0.0.2", f"_25._tcp.mx-dane-notls TLSA {ee.tlsa(3, 1, 1)}",
          "mx-opp-unreach A 127.0.0.3",
          "d-mixed-notls MX 10 mx-dane-notls", "d-mixed-notls MX 20 mx-opp-unreach"]
    r += ["alias-opp CNAME mx-plain.insec", "d-cname-opp MX 10 alias-opp"]
    # Two DANE-TA hosts with different anchors. The first trusts the lab's
    # root but presents (in the MTA tests) a certificate from the second
    # root, which only the second host's record trusts.
    r += _a("mx-ta-mitm") + _a("mx-ta2")
    r += [f"_25._tcp.mx-ta-mitm TLSA {certs.root.tlsa(2, 0, 0)}",
          f"_25._tcp.mx-ta2 TLSA {certs.root2.tlsa(2, 0, 0)}",
          "d-ta-two MX 10 mx-ta-mitm", "d-ta-two MX 20 mx-ta2", "d-ta2 MX 10 mx-ta2"]
    # The opportunistic name the MTA tests make fail after routing.
    r += ["mx-opp-flaky A 127.0.0.3", "d-mixed-flaky MX 10 mx-mismatch",
          "d-mixed-flaky MX 20 mx-opp-flaky"]
    # RFC 7672 §2.2.2: a secure CNAME into the unsigned zone; TLSA at the
    # original name.
    r += ["alias-insec CNAME mx.insec", f"_25._tcp.alias-insec TLSA {ee.tlsa(3, 1, 1)}",
          "d-cname-insec MX 10 alias-insec"]
    # RFC 7672 §2.2.3: TLSA at the expanded name is insecure (its owner is
    # a CNAME into the unsigned zone): the original name is tried next.
    r += _a("mx-tlsainsec") + ["_25._tcp.mx-tlsainsec CNAME tlsa.insec",
                               "alias-tlsainsec CNAME mx-tlsainsec",
                               f"_25._tcp.alias-tlsainsec TLSA {ee.tlsa(3, 1, 1)}",
                               "d-tlsa-insec MX 10 alias-tlsainsec"]
    # RFC 7671 §9: a 3 1 0 record whose data is a DER SEQUENCE but no
    # SubjectPublicKeyInfo is malformed: unusable, TLS mandatory.
    r += _a("mx-malformed") + ["_25._tcp.mx-malformed TLSA 3 1 0 3003020100",
                               "d-malformed MX 10 mx-malformed"]
    # RFC 7672 §3.2.2: a DANE-TA host whose certificate names the domain.
    r += _a("mx-ta-dom") + [f"_25._tcp.mx-ta-dom TLSA {root.tlsa(2, 1, 1)}",
                            "d-ta-domain MX 10 mx-ta-dom"]
    # An MX host name with an underscore: DNS allows it, and so does Postfix.
    r += _a("mx_under") + [f"_25._tcp.mx_under TLSA {ee.tlsa(3, 1, 1)}",
                           "d-underscore MX 10 mx_under"]
    # An IPv6-only DANE host (danegate probe: the AAAA address is tried).
    r += ["mx-v6only AAAA ::1", f"_25._tcp.mx-v6only TLSA {ee.tlsa(3, 1, 1)}",
          "d-v6only MX 10 mx-v6only"]
    # Names used by one service test each (coalescing, TTL expiry), so no
    # other test warms a cache for them.
    for name in ("coalesce", "ttl"):
        r += _a(f"mx-{name}") + [f"d-{name} MX 10 mx-{name}"]
    r += [f"_25._tcp.mx-coalesce TLSA {ee.tlsa(3, 1, 1)}",
          f"_25._tcp.mx-ttl {TTL_TEST_SECONDS} TLSA {ee.tlsa(3, 1, 1)}"]
    return r


def child_records(zone, certs):
    """Records of the child zones (relative names)."""
    return {
        "nsec3": ["@ MX 10 mx"] + _a("mx"),
        "expired": ["@ MX 10 mx"] + _a("mx") + ["tlsa TLSA 3 1 1 " + "11" * 32],
        "badds": ["@ MX 10 mx"] + _a("mx"),
        "unsuppds": ["@ MX 10 mx"] + _a("mx") + ["_25._tcp.mx TLSA 3 1 1 " + "33" * 32],
        "unsuppalg": ["@ MX 10 mx"] + _a("mx") + ["_25._tcp.mx TLSA 3 1 1 " + "33" * 32],
        # Valid now, its signatures expire 12 hours after the lab starts.
        "soon": ["@ MX 10 mx"] + _a("mx") + [f"_25._tcp.mx TLSA {certs.ee.tlsa(3, 1, 1)}"],
        "insec": ["@ MX 10 mx"] + _a("mx") + ["_25._tcp.mx TLSA 3 1 1 " + "22" * 32,
                                              "tlsa TLSA 3 1 1 " + "22" * 32,
                                              # RFC 7672 §2.2.1: an insecure MX RRset
                                              # naming a host with secure TLSA records.
                                              "dane-mx MX 10 mx-311.dane.test.",
                                              # at 127.0.0.2: no STARTTLS in the Exim tests
                                              "plain MX 10 mx-plain", "mx-plain A 127.0.0.2"],
    }[zone]


D = "dane.test"
SCENARIOS = [
    Scenario("dane-ee 3 1 1", f"d-311.{D}", "deliver", "dane_required",
             [(f"mx-311.{D}", "dane")],
             [Verify(f"mx-311.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"mx-311.{D}", "other", "defer", False, "dane_mismatch")]),
    Scenario("dane-ee 3 0 1", f"d-301.{D}", "deliver", "dane_required",
             [(f"mx-301.{D}", "dane")],
             [Verify(f"mx-301.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("dane-ee 3 1 2", f"d-312.{D}", "deliver", "dane_required",
             [(f"mx-312.{D}", "dane")],
             [Verify(f"mx-312.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("dane-ta 2 1 1 with chain and name", f"d-ta.{D}", "deliver", "dane_required",
             [(f"mx-ta.{D}", "dane")],
             [Verify(f"mx-ta.{D}", "ta", "deliver", True, "dane_authenticated")]),
    Scenario("dane-ta 2 1 1 wrong name", f"d-ta-wrongname.{D}", "deliver", "dane_required",
             [(f"mx-ta.{D}", "dane")],
             [Verify(f"mx-ta.{D}", "ta_wrong_name", "defer", False, "dane_mismatch")]),
    Scenario("dane-ta digest, TA not sent by the server", f"d-ta-notsent.{D}", "deliver",
             "dane_required", [(f"mx-ta-notsent.{D}", "dane")],
             [Verify(f"mx-ta-notsent.{D}", "ta_no_root", "defer", False, "dane_mismatch")]),
    Scenario("dane-ta 2 0 0 full certificate, chain sent", f"d-ta-full.{D}", "deliver",
             "dane_required", [(f"mx-ta-full.{D}", "dane")],
             [Verify(f"mx-ta-full.{D}", "ta", "deliver", True, "dane_authenticated")]),
    Scenario("dane-ta full key, TA not sent by the server", f"d-ta-key.{D}", "deliver",
             "dane_required", [(f"mx-ta-key.{D}", "dane")],
             [Verify(f"mx-ta-key.{D}", "ta_no_root", "deliver", True, "dane_authenticated")]),
    Scenario("TLSA does not match", f"d-mismatch.{D}", "deliver", "dane_required",
             [(f"mx-mismatch.{D}", "dane")],
             [Verify(f"mx-mismatch.{D}", "ee", "defer", False, "dane_mismatch")]),
    Scenario("digest agility: weak digest matches, strong does not", f"d-agility.{D}",
             "deliver", "dane_required", [(f"mx-agility.{D}", "dane")],
             [Verify(f"mx-agility.{D}", "ee", "defer", False, "dane_mismatch")]),
    Scenario("all records unusable", f"d-unusable.{D}", "deliver", "tlsa_unusable",
             [(f"mx-unusable.{D}", "mandatory")],
             [Verify(f"mx-unusable.{D}", "other", "deliver", False, "tlsa_unusable")]),
    Scenario("all records unusable, host without STARTTLS", f"d-unusable-notls.{D}", "deliver",
             "tlsa_unusable", [(f"mx-notls.{D}", "mandatory")]),
    Scenario("DS of an unknown digest type only: an insecure delegation (RFC 4035 §5.2)",
             f"unsuppds.{D}", "deliver", "insecure_no_dane",
             [(f"mx.unsuppds.{D}", "opportunistic")]),
    Scenario("DS of an unknown algorithm only: an insecure delegation (RFC 6840 §5.2)",
             f"unsuppalg.{D}", "deliver", "insecure_no_dane",
             [(f"mx.unsuppalg.{D}", "opportunistic")],
             # getdns 1.6 stub validation calls it bogus (defer for ever).
             wrong_on=("getdns",)),
    Scenario("mixed MX set: the opportunistic name has the DANE host's address",
             f"d-mixed-sameip.{D}", "deliver", "dane_required",
             [(f"mx-mismatch.{D}", "dane"), (f"mx-opp-sameip.{D}", "opportunistic")]),
    Scenario("two DANE-TA hosts with different anchors", f"d-ta-two.{D}", "deliver",
             "dane_required", [(f"mx-ta-mitm.{D}", "dane"), (f"mx-ta2.{D}", "dane")],
             [Verify(f"mx-ta-mitm.{D}", "ta2", "defer", False, "dane_mismatch"),
              Verify(f"mx-ta2.{D}", "ta2", "deliver", True, "dane_authenticated")]),
    Scenario("mixed MX set, the opportunistic host at another address", f"d-mixed-flaky.{D}",
             "deliver", "dane_required",
             [(f"mx-mismatch.{D}", "dane"), (f"mx-opp-flaky.{D}", "opportunistic")]),
    Scenario("mixed MX set: the DANE host offers no STARTTLS", f"d-mixed-notls.{D}",
             "deliver", "dane_required",
             [(f"mx-dane-notls.{D}", "dane"), (f"mx-opp-unreach.{D}", "opportunistic")]),
    Scenario("secure, no TLSA (NSEC)", f"d-notlsa.{D}", "deliver", "no_tlsa",
             [(f"mx-notlsa.{D}", "opportunistic")],
             [Verify(f"mx-notlsa.{D}", "other", "deliver", False, "no_tlsa")]),
    Scenario("secure, no TLSA (NSEC3)", f"nsec3.{D}", "deliver", "no_tlsa",
             [(f"mx.nsec3.{D}", "opportunistic")]),
    Scenario("insecure delegation", f"insec.{D}", "deliver", "insecure_no_dane",
             [(f"mx.insec.{D}", "opportunistic")],
             [Verify(f"mx.insec.{D}", "other", "deliver", False, "insecure_no_dane")]),
    Scenario("insecure domain, host without STARTTLS", f"plain.insec.{D}", "deliver",
             "insecure_no_dane", [(f"mx-plain.insec.{D}", "opportunistic")]),
    Scenario("secure MX, insecure address records", f"d-insecaddr.{D}", "deliver",
             "insecure_no_dane", [(f"mx.insec.{D}", "opportunistic")]),
    Scenario("bogus MX RRset (expired RRSIG)", f"expired.{D}", "defer", "dnssec_bogus"),
    Scenario("bogus MX RRset (key not in DS)", f"badds.{D}", "defer", "dnssec_bogus"),
    Scenario("bogus host alone (key not in DS)", f"d-bogus-alone.{D}", "defer", "dnssec_bogus",
             [(f"mx.badds.{D}", "unreachable")],
             [Verify(f"mx.badds.{D}", "ee", "defer", False, "dnssec_bogus")]),
    Scenario("bogus host alone (expired RRSIG)", f"d-expired-alone.{D}", "defer",
             "dnssec_bogus", [(f"mx.expired.{D}", "unreachable")]),
    Scenario("bogus first MX, good second", f"d-bogus-second.{D}", "deliver", "dane_required",
             [(f"mx.expired.{D}", "unreachable"), (f"mx-311.{D}", "dane")],
             [Verify(f"mx-311.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"mx.expired.{D}", "ee", "defer", False, "dnssec_bogus")]),
    Scenario("upstream SERVFAIL on the MX lookup", f"servfail.{D}", "defer", "dns_failure"),
    Scenario("upstream SERVFAIL on the TLSA lookup", f"d-tlsaservfail.{D}", "defer",
             "dns_failure", [(f"mx-tlsaservfail.{D}", "unreachable")]),
    Scenario("upstream timeout", f"d-311.{D}", "defer", "dns_failure", resolver="blackhole"),
    Scenario("CNAME'd MX host: TLSA at the expanded name first", f"d-cname-mx.{D}", "deliver",
             "dane_required", [(f"alias.{D}", "dane")],
             [Verify(f"alias.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"alias.{D}", "other", "defer", False, "dane_mismatch"),
              # An MTA that follows the CNAME names the host by its target.
              Verify(f"mx-cname-target.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("CNAME'd MX host: TLSA at the original name", f"d-cname-orig.{D}", "deliver",
             "dane_required", [(f"alias2.{D}", "dane")],
             [Verify(f"alias2.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"mx-plain2.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("CNAME'd TLSA owner", f"d-tlsacname.{D}", "deliver", "dane_required",
             [(f"mx-tlsacname.{D}", "dane")],
             [Verify(f"mx-tlsacname.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("TLSA owner CNAME into a bogus zone", f"d-tlsabogus.{D}", "defer", "dnssec_bogus",
             [(f"mx-tlsabogus.{D}", "unreachable")]),
    Scenario("no MX: the domain's own address", f"d-nomx.{D}", "deliver", "dane_required",
             [(f"d-nomx.{D}", "dane")],
             [Verify(f"d-nomx.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("null MX", f"d-nullmx.{D}", "reject", "null_mx"),
    Scenario("domain proven not to exist", f"nonexistent.{D}", "reject", "domain_not_found"),
    Scenario("secure CNAME'd MX host into an unsigned zone: TLSA at the original name "
             "(RFC 7672 §2.2.2)", f"d-cname-insec.{D}", "deliver", "dane_required",
             [(f"alias-insec.{D}", "dane")],
             [Verify(f"alias-insec.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"alias-insec.{D}", "other", "defer", False, "dane_mismatch")]),
    Scenario("insecure TLSA at the expanded name: the original name next (RFC 7672 §2.2.3)",
             f"d-tlsa-insec.{D}", "deliver", "dane_required",
             [(f"alias-tlsainsec.{D}", "dane")],
             [Verify(f"alias-tlsainsec.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("exact-match record that is no key: unusable (RFC 7671 §9)", f"d-malformed.{D}",
             "deliver", "tlsa_unusable", [(f"mx-malformed.{D}", "mandatory")],
             [Verify(f"mx-malformed.{D}", "other", "deliver", False, "tlsa_unusable")]),
    Scenario("dane-ta certificate naming the recipient domain (RFC 7672 §3.2.2)",
             f"d-ta-domain.{D}", "deliver", "dane_required", [(f"mx-ta-dom.{D}", "dane")],
             [Verify(f"mx-ta-dom.{D}", "ta_domain", "deliver", True, "dane_authenticated"),
              Verify(f"mx-ta-dom.{D}", "ta_wrong_name", "defer", False, "dane_mismatch")]),
    Scenario("MX host name with an underscore", f"d-underscore.{D}", "deliver", "dane_required",
             [(f"mx_under.{D}", "dane")],
             [Verify(f"mx_under.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("insecure MX RRset, host with secure TLSA: DANE (RFC 7672 §2.2.1)",
             f"dane-mx.insec.{D}", "deliver", "dane_required", [(f"mx-311.{D}", "dane")],
             [Verify(f"mx-311.{D}", "ee", "deliver", True, "dane_authenticated"),
              Verify(f"mx-311.{D}", "other", "defer", False, "dane_mismatch")]),
    Scenario("signatures expiring in 12 hours: still valid", f"soon.{D}", "deliver",
             "dane_required", [(f"mx.soon.{D}", "dane")],
             [Verify(f"mx.soon.{D}", "ee", "deliver", True, "dane_authenticated")]),
    Scenario("host outside the DANE domain's MX set", f"d-311.{D}", "deliver", "dane_required",
             [(f"mx-311.{D}", "dane")],
             [Verify(f"mx-notlsa.{D}", "ee", "defer", False, "host_not_in_policy")]),
]
