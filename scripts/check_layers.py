#!/usr/bin/env python3
"""The hub's layering, as code: which part of hub/ may include which.

Each folder of hub/ is a part. PARTS below lists, for every part, the parts whose headers it
may include; a part never includes a header of a part above it, so the table is a directed
acyclic graph (checked). Unit tests beside the code (*_test.cpp) may include what their part
may, and the test helpers in hub/testing/.

Two checks, run by ctest (tests/CMakeLists.txt) and by hand:

  python3 scripts/check_layers.py layers   # every #include "part/…" against PARTS
  python3 scripts/check_layers.py sql      # SQL and sqlite3 only inside the storage backend
  python3 scripts/check_layers.py cmake    # hub/CMakeLists.txt links each part to what PARTS says

Known debts are listed in KNOWN_BACK_EDGES and KNOWN_SQL with what will remove them. The check
fails on any edge or file not listed, and also on a listed one that is gone: the lists only
shrink, and each removal is recorded here.

Exit status: 0 when the tree obeys, 1 with one line per finding, 2 on a usage error.
"""

import argparse
import pathlib
import re
import sys

# The parts, bottom up, and what each may include. The SDK (hub/sdk/…, hub/loader/…) is below
# all of them and is not listed.
PARTS = {
    "domain": [],  # events, status rules, validation, quarters and dates, Status/Result
    "common": [],  # utilities with no hub knowledge (command line, rate limiter)
    "config": ["domain"],
    # report owns the read-view interface (report/report_views.h, plain values, no storage
    # type) that the backend implements: the part that needs storage declares it, below it.
    "report": ["domain", "config"],
    # audit, eventlog and delivery own their stores' interfaces (audit_log.h, event_store.h,
    # event_reader.h, ledger.h): plain values and abstract classes, no storage type.
    "audit": ["domain"],
    "security": ["domain", "config", "audit"],
    "runtime": ["domain", "common", "config"],  # what hubd and the plugin host share
    "eventlog": ["domain"],
    # the complaints register (投诉举报): its operations and its store's interface
    # (complaint_store.h), which the backend implements.
    "complaints": ["domain"],
    "delivery": ["domain", "config", "runtime", "eventlog"],
    # the storage backend: every SQL string of the hub; implements the interfaces owned by the
    # parts it lists, and the daemon hands the implementations to their users.
    "store": ["domain", "config", "report", "audit", "eventlog", "delivery", "complaints"],  # config: which backend
    "ingest": ["domain", "common", "config", "security", "eventlog"],
    "livefeed": ["domain", "config", "security", "eventlog", "delivery"],
    "pluginhost": ["domain", "common", "config", "security", "runtime"],
    # runtime: the import preview asks in-process plugins for a dry evaluation (runtime/dry_evaluation.h)
    "admin": ["domain", "common", "config", "security", "audit", "runtime", "delivery", "report", "complaints"],
    "http": ["domain", "config", "security", "audit", "admin", "report"],  # security, audit: web accounts
    "cli": ["domain", "common", "config", "security", "audit", "report", "store"],  # hubctl audit verify reads the files
    "towngen": ["domain", "common"],
    "daemon": ["domain", "common", "store", "config", "audit", "security", "runtime", "eventlog", "delivery", "complaints",
               "report", "ingest", "livefeed", "pluginhost", "admin", "http"],
    "testing": None,  # test helpers: header-only, used by tests of any part
}

# What a unit test beside the code may include besides what its part may: the test helpers, and
# the SQLite layer to read a file as an oracle of what the code under test wrote.
TEST_ONLY = ("testing", "store")

# Edges that break PARTS today: (from, to) -> what removes them. None left in production code.
KNOWN_BACK_EDGES = {}
# The same, in unit tests only.
KNOWN_TEST_BACK_EDGES = {}

# The storage backends: the only production code that may hold SQL or name sqlite3 or libpq.
BACKENDS = ("hub/store/sqlite/", "hub/store/postgresql/")
# Production files outside the backend that still hold SQL, each with what removes it.
KNOWN_SQL = {}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/[^"]+"', re.M)
# sqlite3 named, or a string literal that starts with an SQL statement's keyword (SQL is written
# in upper case in this project).
SQL = re.compile(r'\bsqlite3(_\w+)?\b|"\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|BEGIN|COMMIT|ROLLBACK|ALTER|'
                 r'DROP|WITH|SAVEPOINT|RELEASE|ATTACH)\s')


def sources(hub: pathlib.Path):
    for path in sorted(hub.rglob("*")):
        if path.suffix in (".h", ".cpp") and path.is_file():
            yield path


def check_dag() -> list:
    problems, state = [], {}

    def visit(part, trail):
        if state.get(part) == "done":
            return
        if state.get(part) == "open":
            problems.append("PARTS has a cycle: " + " -> ".join(trail + [part]))
            return
        state[part] = "open"
        for below in PARTS[part] or []:
            if below not in PARTS:
                problems.append(f"PARTS: {part} names an unknown part {below}")
                continue
            visit(below, trail + [part])
        state[part] = "done"

    for part in PARTS:
        visit(part, [])
    return problems


def check_layers(root: pathlib.Path) -> list:
    hub = root / "hub"
    problems = check_dag()
    seen = set()
    for path in sources(hub):
        rel = path.relative_to(root)
        part = rel.parts[1]
        if part not in PARTS:
            problems.append(f"{rel}: the folder hub/{part}/ is not a part in scripts/check_layers.py; add it to PARTS")
            continue
        allowed = PARTS[part]
        if allowed is None:
            continue
        is_test = path.name.endswith("_test.cpp")
        text = path.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target == part or target == "hub" or target not in PARTS:
                continue  # itself, the SDK, or a system/third-party header
            if target in TEST_ONLY and is_test:
                continue
            if target in allowed:
                continue
            if (part, target) in KNOWN_BACK_EDGES or (is_test and (part, target) in KNOWN_TEST_BACK_EDGES):
                seen.add((part, target))
                continue
            problems.append(f"{rel}:{lineno}: {part} includes {line.strip()[len('#include '):]}, "
                            f"a header of {target}, which is not below it (allowed: {', '.join(allowed) or 'none'})")
    for edge, why in {**KNOWN_BACK_EDGES, **KNOWN_TEST_BACK_EDGES}.items():
        if edge not in seen:
            problems.append(f"KNOWN_BACK_EDGES lists {edge[0]} -> {edge[1]} ({why}), and no file has it any more: "
                            "remove it from the list")
    return problems


def check_sql(root: pathlib.Path) -> list:
    problems, seen = [], set()
    for path in sources(root / "hub"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(BACKENDS) or path.name.endswith("_test.cpp") or rel.startswith("hub/testing/"):
            continue
        text = path.read_text(encoding="utf-8")
        hits = [n for n, line in enumerate(text.splitlines(), 1) if SQL.search(line)]
        if not hits:
            continue
        if rel in KNOWN_SQL:
            seen.add(rel)
            continue
        problems.append(f"{rel}:{hits[0]}: SQL or sqlite3 outside the storage backends ({', '.join(BACKENDS)}); "
                        f"{len(hits)} line(s)")
    for rel, why in KNOWN_SQL.items():
        if rel not in seen:
            problems.append(f"KNOWN_SQL lists {rel} ({why}), and it has no SQL any more: remove it from the list")
    return problems


PART_CALL = re.compile(r"^hub_add_part\((\w+)(.*?)\)\s*$", re.M | re.S)


def check_cmake(root: pathlib.Path) -> list:
    """Each hub_add_part(NAME … DEPENDS …) links exactly the parts PARTS allows it, plus its known debts."""
    text = (root / "hub" / "CMakeLists.txt").read_text(encoding="utf-8")
    problems, declared = [], set()
    for m in PART_CALL.finditer(text):
        name, words = m.group(1), m.group(2).split()
        declared.add(name)
        depends, current = set(), None
        for w in words:
            if w in ("SOURCES", "DEPENDS", "LIBS"):
                current = w
            elif current == "DEPENDS":
                depends.add(w)
        if name not in PARTS:
            problems.append(f"hub/CMakeLists.txt: hub_add_part({name}) is not a part in PARTS")
            continue
        expected = set(PARTS[name] or []) | {to for (frm, to) in KNOWN_BACK_EDGES if frm == name}
        if depends - expected:
            problems.append(f"hub/CMakeLists.txt: {name} links {', '.join(sorted(depends - expected))}, "
                            "which PARTS does not allow it")
        unused = expected - depends - {"common"}
        if unused and name != "daemon":
            problems.append(f"hub/CMakeLists.txt: {name} may use {', '.join(sorted(unused))} (PARTS) "
                            "but does not link it: say so in both places or in neither")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["layers", "sql", "cmake"], help="which rule to check")
    parser.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent),
                        help="the project's root folder (default: this script's project)")
    args = parser.parse_args()
    root = pathlib.Path(args.root)
    problems = {"layers": check_layers, "sql": check_sql, "cmake": check_cmake}[args.check](root)
    for p in problems:
        print(p)
    known = len(KNOWN_SQL) if args.check == "sql" else len(KNOWN_BACK_EDGES) + len(KNOWN_TEST_BACK_EDGES)
    print(f"check_layers {args.check}: {len(problems)} problem(s); {known} known debt(s) listed in the script")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
