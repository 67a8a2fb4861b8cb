#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever the build and the tests need and is missing.
# Safe to run again: it only calls apt-get when a package is absent. Needs root (or sudo).
set -euo pipefail

packages=(
  libcpp-httplib-dev                                          # hubd's HTTP server (dashboard, /api, /metrics), webhook connector
  chromium fonts-noto-cjk                                     # browser tests of the dashboard, Chinese glyphs
  build-essential cmake ninja-build pkg-config
  libboost-dev libboost-filesystem-dev libboost-system-dev   # Boost.DLL (header-only) + filesystem
  libzmq3-dev cppzmq-dev
  libsodium-dev                                               # audit log: Ed25519 signatures
  libssl-dev                                                  # audit chains: SHA-256 (OpenSSL libcrypto, SHA extensions)
                                                              # and the dashboard's HTTPS (libssl)
  openssl                                                     # HTTPS tests make their CA and certificate with it
  nlohmann-json3-dev
  libspdlog-dev libfmt-dev
  libcli11-dev                                                # one command-line parser, with --help per hubctl verb,
                                                              # instead of six hand-written ones
  libgtest-dev libgmock-dev
  libsqlite3-dev sqlite3
  libpq-dev postgresql                                        # the PostgreSQL backend (libpq) and the server its tests
                                                              # start in a temp dir (initdb, pg_ctl; the packaged
                                                              # cluster service is not used)
  python3 python3-zmq                                         # protocol doc example is tested
  procps                                                      # tests: pgrep (a host without its supervisor has no child)
  libhiredis-dev redis-server                                 # bench/: Redis Streams baseline
  libnats-dev nats-server                                     # bench/: NATS JetStream, the second peer (optional
                                                              # to build: without libnats hub-bench skips it). The
                                                              # bench starts its own server on a free port; under
                                                              # systemd Debian also enables nats-server.service
                                                              # (127.0.0.1:4222, no JetStream), which nothing uses
  clang libclang-rt-14-dev                                    # scripts/fuzz.sh: libFuzzer (-fsanitize=fuzzer)
  prometheus python3-yaml                                     # promtool (check/test the alert rules, tests/prometheus/);
                                                              # ~100 MB with the server, which no test uses. Under systemd
                                                              # Debian starts prometheus.service (port 9090; no test needs
                                                              # that port): `systemctl disable --now prometheus` on a CI
                                                              # host; in a container without systemd nothing starts
  help2man groff-base                                         # man pages from --help (man/), rendered by the test
  libsystemd-dev                                              # hubd: sd_notify (READY=1 for Type=notify, reload, stop)
  dpkg-dev                                                    # cpack DEB: dpkg-shlibdeps writes the packages' Depends
  systemd                                                     # systemd-analyze verify of the packaged units (ctest)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
