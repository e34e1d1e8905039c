#!/usr/bin/env python3
"""The architecture as a checked table (docs/architecture.md): which modules
each source file may include, and where each adapter library may appear.
Runs over every C++ file of service/, plugin/, bench/ and tests/; exits 1
naming each include that breaks a rule. It first proves each rule able to
fail (MUST_FAIL: includes it must refuse).

  scripts/check-architecture.py [ROOT]
"""
import os
import re
import sys

# Project modules a module may include (its own always). A file belongs to
# the longest module prefix that names it.
MODULES = {
    "service/common": [],
    "service/tlsa/record": [],          # pure: Abseil only
    "service/tlsa/match_result.h": ["service/tlsa/record"],
    "service/tlsa": ["service/common"],
    "service/dns": ["service/tlsa/record", "service/common"],
    "service/policy": ["service/dns", "service/tlsa/record", "service/tlsa/match_result.h"],
    "service/engine": ["service/policy", "service/tlsa", "service/dns", "service/common"],
    "service/smtp": ["service/tlsa", "service/common"],
    "service/api": ["service/policy", "service/tlsa", "service/dns", "service/common"],
    "service/server": ["service/api", "service/engine", "service/policy", "service/dns",
                       "service/tlsa", "service/common"],
    "service/cli": ["service/api", "service/engine", "service/policy", "service/dns",
                    "service/tlsa", "service/smtp", "service/common"],
    # The agent: no engine, no resolver, no server; the name syntax checks
    # of service/dns/name.h only.
    "plugin/agent": ["plugin/postfix", "service/api", "service/smtp", "service/tlsa",
                     "service/dns/name.h", "service/common"],
    "plugin/postfix": ["plugin/agent/netstring.h", "plugin/agent/map_reply.h", "service/api",
                       "service/tlsa", "service/dns/name.h", "service/dns/answer.h",
                       "service/common"],
    # Loaded into Exim: libc only (checked below), no project header.
    "plugin/exim": [],
    "bench": ["service", "tests/testing"],
    "tests": ["service", "plugin", "tests"],
}

# Pure files: Abseil and the standard library only (no adapter library).
PURE = ["service/policy/", "service/tlsa/record.", "service/tlsa/match_result.h",
        "service/dns/answer.", "service/dns/name.", "service/dns/resolver.h",
        "service/dns/resolver_config.", "service/smtp/smtp_reply.",
        "plugin/agent/netstring.", "plugin/agent/map_reply."]

# Adapter libraries: the include prefix and the files (prefixes) that may
# use it. tests/ may use any of them.
LIBRARIES = {
    "getdns/": ["service/dns/getdns_resolver.", "service/dns/getdns_message."],
    "unbound": ["service/dns/unbound_resolver."],
    "openssl/": ["service/tlsa/", "service/smtp/starttls_client."],
    "microhttpd": ["service/common/metrics_http."],
    "grpc": ["service/api/remote.", "service/server/", "bench/"],
    "danegate/v1/": ["service/api/", "service/cli/", "service/server/", "plugin/agent/",
                     "plugin/postfix/postfix_policy.", "plugin/postfix/lookup.", "bench/"],
    "google/protobuf": [],
    "benchmark/": ["bench/"],
    "gtest/": ["tests/"], "gmock/": ["tests/"],
}

# The Exim module's C library headers (it links no C++ runtime).
EXIM_HEADERS = re.compile(r"^(arpa/inet|dlfcn|errno|fcntl|netinet/in|poll|stdarg|stdio|stdlib|"
                          r"string|sys/socket|sys/un|time|unistd)\.h$")

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]')
PURE_ALLOWED = re.compile(r"^(absl/|service/|plugin/|[a-z_]+$|[a-z]+\.h$|sys/|arpa/|netinet/)")


def module_of(path):
    """The longest module name `path` starts with."""
    return max((m for m in MODULES if path.startswith(m)), key=len, default="")


def allowed_project(path, header):
    """Its own module, the module's parts (service/tlsa may use
    service/tlsa/record.h) and the modules MODULES lists."""
    module = module_of(path)
    return (header.startswith(module) or
            any(header.startswith(prefix) for prefix in MODULES[module]))


def check_file(path, lines):
    """The violations in one file (`path` relative to the root)."""
    errors = []
    module = module_of(path)
    for number, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        header = m.group(2)
        where = f"{path}:{number}: {header}"
        if module == "plugin/exim":
            if not EXIM_HEADERS.match(header):
                errors.append(f"{where}: the Exim module includes libc only")
            continue
        if header.startswith(("service/", "plugin/", "tests/", "bench/")):
            if not allowed_project(path, header):
                errors.append(f"{where}: {module} may not depend on it")
            continue
        for library, users in LIBRARIES.items():
            if (header.startswith(library) and not path.startswith("tests/")
                    and not any(path.startswith(u) for u in users)):
                errors.append(f"{where}: {library} only in {', '.join(users) or 'generated code'}")
        if any(path.startswith(p) for p in PURE) and not PURE_ALLOWED.match(header):
            errors.append(f"{where}: a pure module uses Abseil only")
    return errors


def check(root):
    errors = []
    for top in ("service", "plugin", "bench", "tests"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith((".cc", ".h")):
                    path = os.path.relpath(os.path.join(dirpath, name), root)
                    with open(os.path.join(root, path), errors="replace") as f:
                        errors += check_file(path, f)
    return errors


# Includes each rule must refuse: the check is proven able to fail.
MUST_FAIL = [
    ("plugin/agent/main.cc", '#include "service/engine/dane_engine.h"'),
    ("plugin/postfix/lookup.cc", '#include "service/dns/validating_resolver.h"'),
    ("service/policy/rules.cc", "#include <openssl/ssl.h>"),
    ("service/policy/rules.cc", '#include "danegate/v1/validator.pb.h"'),
    ("service/dns/name.cc", '#include "service/server/config.h"'),
    ("service/tlsa/record.cc", '#include "service/common/log.h"'),
    ("service/common/log.cc", '#include "plugin/agent/netstring.h"'),
    ("service/smtp/smtp_reply.cc", "#include <openssl/err.h>"),
    ("service/engine/dane_engine.cc", "#include <openssl/x509.h>"),
    ("plugin/postfix/trust_anchor_files.cc", "#include <openssl/sha.h>"),
    ("service/cli/main.cc", "#include <getdns/getdns.h>"),
    ("service/dns/getdns_resolver.cc", "#include <unbound.h>"),
    ("service/engine/dane_engine.cc", "#include <grpcpp/grpcpp.h>"),
    ("service/server/main.cc", "#include <microhttpd.h>"),
    ("plugin/exim/danegate_exim.cc", "#include <string>"),
    ("plugin/exim/danegate_exim.cc", '#include "service/common/log.h"'),
    ("bench/load.cc", '#include "plugin/agent/netstring.h"'),
    ("service/api/convert.cc", '#include "gtest/gtest.h"'),
]


def self_test():
    missed = [f"{path}: {line}" for path, line in MUST_FAIL if not check_file(path, [line])]
    for miss in missed:
        print(f"self-test: not refused: {miss}")
    return not missed


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    errors = check(root)
    if not self_test():
        errors.append("the check itself lets a forbidden include through")
    for error in errors:
        print(error)
    if errors:
        print(f"architecture: {len(errors)} violation(s)")
        return 1
    print("architecture: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
