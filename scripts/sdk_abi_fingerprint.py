#!/usr/bin/env python3
"""Guards the plugin ABI: the public headers that define what crosses the plugin boundary must
not change without a new HUB_SDK_ABI_VERSION.

The fingerprint is the SHA-256 of those headers with comments and blank space removed (so
documentation edits need no bump). sdk/abi/fingerprints.txt records one fingerprint per ABI
version; a version's fingerprint is never changed once recorded.

  scripts/sdk_abi_fingerprint.py --check    fails when the headers no longer match the
                                            fingerprint recorded for the current ABI version
  scripts/sdk_abi_fingerprint.py --record   records the fingerprint of a new ABI version
                                            (after you bumped HUB_SDK_ABI_VERSION)
  scripts/sdk_abi_fingerprint.py --print    prints the current fingerprint

Exit codes: 0 ok, 1 check failed, 2 usage or setup error.
"""
import argparse
import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The headers whose declarations make up the ABI between hubd and a plugin library: the values
# that cross it (types.h, result.h), what the plugin calls on the host (host.h) and the
# instance, factory and exported symbols (plugin.h). version.h holds the version number that
# keys the record, so it is not part of the fingerprint. catalogue.h, csv.h, reasons.h and
# roster.h are helpers compiled into the plugin itself and cross nothing.
ABI_HEADERS = ["host.h", "plugin.h", "result.h", "types.h"]
TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//[^\n]*|/\*.*?\*/|\s+|[^"\'/\s]+|/', re.S)


def normalise(text: str) -> str:
    """The header without comments, each run of blank space turned into one space."""
    out = []
    for token in TOKEN.findall(text):
        if token.startswith("//") or token.startswith("/*"):
            out.append(" ")
        elif token.isspace():
            out.append(" ")
        else:
            out.append(token)
    return re.sub(r" +", " ", "".join(out)).strip()


def fingerprint(include_dir: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for name in ABI_HEADERS:
        digest.update(name.encode() + b"\0" + normalise((include_dir / name).read_text(encoding="utf-8")).encode() + b"\0")
    return digest.hexdigest()


def abi_version(include_dir: pathlib.Path) -> int:
    match = re.search(r"^#define HUB_SDK_ABI_VERSION (\d+)u?\s*$", (include_dir / "version.h").read_text(), re.M)
    if not match:
        sys.exit(f"sdk_abi_fingerprint: no '#define HUB_SDK_ABI_VERSION <n>u' in {include_dir / 'version.h'}")
    return int(match.group(1))


def read_records(path: pathlib.Path) -> dict:
    records = {}
    if path.exists():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit() or not re.fullmatch(r"[0-9a-f]{64}", parts[1]):
                sys.exit(f"sdk_abi_fingerprint: {path}:{number}: expected '<abi version> <sha256>'")
            records[int(parts[0])] = parts[1]
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--record", action="store_true")
    mode.add_argument("--print", action="store_true")
    parser.add_argument("--include-dir", type=pathlib.Path, default=ROOT / "sdk/include/hub/sdk")
    parser.add_argument("--records", type=pathlib.Path, default=ROOT / "sdk/abi/fingerprints.txt")
    args = parser.parse_args()

    current = fingerprint(args.include_dir)
    version = abi_version(args.include_dir)
    records = read_records(args.records)
    record_cmd = "python3 scripts/sdk_abi_fingerprint.py --record"
    if args.print:
        print(f"ABI {version} {current}")
        return 0
    if args.record:
        if version in records and records[version] != current:
            print(f"sdk_abi_fingerprint: ABI version {version} is already recorded with another fingerprint.\n"
                  f"  A released ABI version never changes: bump HUB_SDK_ABI_VERSION in sdk/include/hub/sdk/version.h\n"
                  f"  (to {max(records) + 1}), then run {record_cmd} again.", file=sys.stderr)
            return 1
        if version not in records:
            with args.records.open("a") as out:
                out.write(f"{version} {current}\n")
        print(f"sdk_abi_fingerprint: ABI {version} = {current} recorded in {args.records}")
        return 0
    # --check
    if version not in records:
        print(f"sdk_abi_fingerprint: HUB_SDK_ABI_VERSION is {version}, but {args.records} has no fingerprint for it.\n"
              f"  Record it: {record_cmd}   (and commit {args.records.name})", file=sys.stderr)
        return 1
    if records[version] != current:
        print(f"sdk_abi_fingerprint: public ABI headers changed: bump HUB_SDK_ABI_VERSION and record the new fingerprint.\n"
              f"  The headers {', '.join(ABI_HEADERS)} in {args.include_dir} no longer match the\n"
              f"  fingerprint recorded for ABI version {version} (comments and spacing are ignored):\n"
              f"    recorded {records[version]}\n    current  {current}\n"
              f"  Every plugin built against ABI {version} must be refused by a hub with these headers. So:\n"
              f"    1. in sdk/include/hub/sdk/version.h set HUB_SDK_ABI_VERSION to {max(records) + 1}u;\n"
              f"    2. run {record_cmd}\n"
              f"    3. commit both, and tell the departments to rebuild their plugins.\n"
              f"  (If the change was a mistake, undo it instead.)", file=sys.stderr)
        return 1
    print(f"sdk_abi_fingerprint: ABI {version} headers match the recorded fingerprint")
    return 0


if __name__ == "__main__":
    sys.exit(main())
