"""`danegate rollover` against the DNSSEC lab: unsafe before the next key's
record is published, safe once it is (and its TTL has passed), and a warning
when the zone's signatures expire within --warn-days."""
import time

from scenarios import TTL_TEST_SECONDS


def test_unsafe_until_the_next_record_is_published_then_safe(cli, private_lab):
    lab = private_lab
    ee, other = lab.certs.chain_file("ee"), lab.certs.chain_file("other")
    base = [f"_25._tcp.mx-roll {TTL_TEST_SECONDS} TLSA {lab.certs.ee.tlsa(3, 1, 1)}",
            "mx-roll A 127.0.0.1", "d-roll MX 10 mx-roll"]
    lab.update_dane_test(base)
    args = ["rollover", "--local", *lab.resolver_args(), "d-roll.dane.test",
            "--next", other, "--current", ee]
    status, got = cli.json(*args)
    assert (status, got["safe"], got["reason"]) == (75, False, "next_key_not_published"), got
    assert got["hosts"][0]["next_published"] is False
    assert got["hosts"][0]["current_published"] is True
    # Publish the next key's record beside the current one, as `danegate
    # tlsa` prints it, and wait out the old RRset's TTL (the feature is time).
    published_at = time.monotonic()
    out = cli.run("tlsa", "--cert", other, "--name=mx-roll.dane.test")
    owner, _, _, record = out.stdout.strip().split(" ", 3)
    lab.update_dane_test(base + [f"{owner} {TTL_TEST_SECONDS} TLSA {record}"])
    time.sleep(max(0.0, published_at + TTL_TEST_SECONDS + 1.5 - time.monotonic()))
    status, got = cli.json(*args)
    assert (status, got["safe"], got["reason"]) == (0, True, "safe"), got
    assert got["hosts"][0]["tlsa_ttl"] <= TTL_TEST_SECONDS
    # The old certificate may now go: the next one alone, as the current.
    status, got = cli.json("rollover", "--local", *lab.resolver_args(), "d-roll.dane.test",
                           "--current", other)
    assert status == 0, got


def test_signatures_expiring_within_the_warning_are_unsafe(cli, lab):
    # The lab signs for 30 days: a 400-day warning sees them expire.
    status, got = cli.json("rollover", "--local", *lab.resolver_args(), "d-311.dane.test",
                           "--warn-days=400")
    assert (status, got["reason"]) == (75, "tlsa_rrsig_expiring"), got
    left = got["hosts"][0]["signatures_expire_in_seconds"]
    assert 20 * 86400 < left <= 31 * 86400, left
    status, got = cli.json("rollover", "--local", *lab.resolver_args(), "d-311.dane.test",
                           "--warn-days=7")
    assert (status, got["reason"]) == (0, "safe"), got


def test_a_zone_signed_for_12_hours_is_unsafe_within_a_week(cli, lab):
    status, got = cli.json("rollover", "--local", *lab.resolver_args(), "soon.dane.test",
                           "--next", lab.certs.chain_file("ee"))
    assert (status, got["reason"]) == (75, "tlsa_rrsig_expiring"), got
    assert 11 * 3600 < got["hosts"][0]["signatures_expire_in_seconds"] <= 12 * 3600
    assert got["hosts"][0]["next_published"] is True


def test_danegated_counts_decisions_on_signatures_about_to_expire(stubs, lab, service):
    import grpc
    before = service.metric("danegate_tlsa_signatures_expiring_total")
    with grpc.insecure_channel(service.address) as channel:
        validator = stubs.rpc.ValidatorStub(channel)
        for domain in ("d-311.dane.test", "soon.dane.test", "soon.dane.test"):
            validator.ResolvePolicy(stubs.pb.ResolvePolicyRequest(domain=domain), timeout=10)
    assert service.metric("danegate_tlsa_signatures_expiring_total") == before + 2


def test_a_domain_that_does_not_validate_is_unsafe(cli, lab):
    status, got = cli.json("rollover", "--local", *lab.resolver_args(), "expired.dane.test",
                           "--next", lab.certs.chain_file("ee"))
    assert (status, got["reason"]) == (75, "policy_not_deliver"), got
    assert "dnssec_bogus" in got["detail"]
