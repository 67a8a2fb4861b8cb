#!/usr/bin/env bash
# The wire protocol as documented in docs/protocol.md, exercised from Python (pyzmq) against a
# real hubd: runs docs/examples/publish.py, checks its output and exit codes, sends a few raw
# messages of its own, then stops hubd with SIGTERM and checks that it exits 0.
#
# Usage: python_client_test.sh PATH/TO/hubd PATH/TO/docs/examples/publish.py
#
# Needs bash, Python 3 and pyzmq (Debian: apt-get install python3-zmq). The interpreter is
# $PYTHON if set, else the first of python3, /usr/bin/python3 that can import zmq.
# Exit codes: 0 all checks passed, 1 a check failed, 2 usage error, 77 pyzmq not available.
# KEEP_TMP=1 keeps the temporary directory (config, data, hubd.log) for inspection.
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PATH/TO/hubd PATH/TO/publish.py" >&2
  exit 2
fi
HUBD=$1
EXAMPLE=$2
if [[ ! -x $HUBD ]]; then echo "$0: hubd not found or not executable: $HUBD" >&2; exit 2; fi
if [[ ! -f $EXAMPLE ]]; then echo "$0: example not found: $EXAMPLE" >&2; exit 2; fi

PY=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import zmq' >/dev/null 2>&1; then
    PY=$candidate
    break
  fi
done
if [[ -z $PY ]]; then
  echo "SKIP: no Python 3 with pyzmq found (apt-get install python3-zmq, or set PYTHON)" >&2
  exit 77
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }  # contains TEXT NEEDLE

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hub-python-client.XXXXXX")
HUBD_PID=""
cleanup() {
  if [[ -n $HUBD_PID ]] && kill -0 "$HUBD_PID" 2>/dev/null; then
    kill -KILL "$HUBD_PID" 2>/dev/null
    wait "$HUBD_PID" 2>/dev/null
  fi
  if [[ ${KEEP_TMP:-} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

summary() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
# Stops here when a failure leaves nothing sensible to check.
abort() {
  fail "$1"
  if [[ -f $TMP/hubd.log ]]; then
    echo "--- hubd.log (last 30 lines) ---"
    tail -n 30 "$TMP/hubd.log"
  fi
  summary
  exit 1
}

# 1. A hub on free ports, with no plugins.
cat >"$TMP/hub.json" <<EOF
{
  "data_dir": "$TMP/var",
  "log_level": "info",
  "endpoints": {"ingest": "tcp://127.0.0.1:*", "admin": "tcp://127.0.0.1:*", "live_feed": "tcp://127.0.0.1:*"},
  "http": "127.0.0.1:0",
  "plugins": []
}
EOF
"$HUBD" --config "$TMP/hub.json" >"$TMP/hubd.log" 2>&1 &
HUBD_PID=$!

ENDPOINTS=$TMP/var/hubd.endpoints.json
for _ in $(seq 100); do  # up to 10 s
  [[ -s $ENDPOINTS ]] && break
  kill -0 "$HUBD_PID" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$HUBD_PID" 2>/dev/null; then
  wait "$HUBD_PID"
  abort "hubd exited during start-up (exit code $?)"
fi
[[ -s $ENDPOINTS ]] || abort "hubd did not write $ENDPOINTS within 10 s"
pass "hubd started and wrote hubd.endpoints.json"

read -r INGEST ADMIN EP_PID < <("$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))
print(e["ingest"], e["admin"], e["pid"])' "$ENDPOINTS") || abort "hubd.endpoints.json is not the expected JSON: $(cat "$ENDPOINTS")"
echo "hubd pid $HUBD_PID: ingest $INGEST, admin $ADMIN"
check "hubd.endpoints.json names hubd's pid ($EP_PID)" test "$EP_PID" = "$HUBD_PID"
check "endpoints are concrete tcp ports" bash -c '[[ $0 =~ ^tcp://127\.0\.0\.1:[0-9]+$ && $1 =~ ^tcp://127\.0\.0\.1:[0-9]+$ ]]' "$INGEST" "$ADMIN"

# CURVE is on, as shipped: hubd made its key pair and an admin and a publisher key on its
# first start (docs/security.md); the Python clients use them.
KEYS=$TMP/var/keys
check "hubd made its CURVE keys in $KEYS" test -s "$KEYS/hub.curve.pub" -a -s "$KEYS/publisher.curve.key" -a -s "$KEYS/admin.curve.key"

# 2. The example, first run: everything is new.
OUT=$("$PY" "$EXAMPLE" --ingest "$INGEST" --admin "$ADMIN" --keys "$KEYS" 2>&1)
RC=$?
echo "--- publish.py (first run) ---"
echo "$OUT"
echo "---"
check "example exits 0 (got $RC)" test "$RC" -eq 0
check "household registered as seq 1" contains "$OUT" "household reg-V03-00417: seq 1 (new)"
check "commitment stored as seq 2" contains "$OUT" "commitment com-V03-00417: seq 2 (new)"
check "status change stored as seq 3" contains "$OUT" "status_change ev-2020Q3-V03-00417: seq 3 (new)"
check "older quarter rejected with stale_quarter" contains "$OUT" "rejected as expected: stale_quarter:"
check "stale_quarter names the field quarter" contains "$OUT" '"code": "stale_quarter", "field": "quarter"'
check "dry run stores nothing and reports 7" contains "$OUT" "batch dry run: 7 events, would_store 7, duplicates 0"
check "batch stored atomically as seqs 4..10" contains "$OUT" "batch: 7 events, stored 7, duplicates 0, seqs 4 5 6 7 8 9 10"
check "bad batch rejected as invalid_batch" contains "$OUT" "bad batch: rejected as expected: invalid_batch: 1 of 2 events are invalid; nothing was stored"
check "bad batch lists item 1 as invalid_status" contains "$OUT" "item 1: invalid_status [field status]"
check "admin status reports last_seq 10 (bad batch stored nothing)" contains "$OUT" "status: last_seq 10, 0 departments"

# 3. Second run: same event ids, so every event is a duplicate with its original seq.
OUT=$("$PY" "$EXAMPLE" --ingest "$INGEST" --admin "$ADMIN" --keys "$KEYS" 2>&1)
RC=$?
check "example run again exits 0 (got $RC)" test "$RC" -eq 0
check "republished household is a duplicate of seq 1" contains "$OUT" "household reg-V03-00417: seq 1 (duplicate, already stored)"
check "republished status change is a duplicate of seq 3" contains "$OUT" "status_change ev-2020Q3-V03-00417: seq 3 (duplicate, already stored)"
check "republished batch: dry run would store 0" contains "$OUT" "batch dry run: 7 events, would_store 0, duplicates 7"
check "republished batch returns the original seqs" contains "$OUT" "batch: 7 events, stored 0, duplicates 7, seqs 4 5 6 7 8 9 10"
check "nothing new in the log (last_seq 10)" contains "$OUT" "status: last_seq 10, 0 departments"

# 4. Raw messages from an inline client: a missing field, admin ping and household.
RAW=$("$PY" - "$INGEST" "$ADMIN" "$KEYS" <<'PYEOF' 2>&1
import json, sys, zmq

ingest, admin, keys = sys.argv[1], sys.argv[2], sys.argv[3] + "/"
ctx = zmq.Context()
failures = 0


def request(endpoint, message, key=None, curve=True, timeout_ms=5000):
    """One request with CURVE and the key for the endpoint (publisher or admin); None: no reply."""
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    if curve:
        key = key or ("publisher" if endpoint == ingest else "admin")
        s.curve_serverkey = open(keys + "hub.curve.pub").read().strip().encode()
        secret = open(keys + key + ".curve.key").read().strip().encode()
        s.curve_secretkey = secret
        s.curve_publickey = zmq.curve_public(secret)
    s.connect(endpoint)
    s.send(message if isinstance(message, bytes) else json.dumps(message).encode("utf-8"))
    try:
        return json.loads(s.recv().decode("utf-8"))
    except zmq.Again:
        if timeout_ms < 5000:
            return None
        print("no reply from " + endpoint)
        sys.exit(3)
    finally:
        s.close()


def expect(what, condition, reply):
    global failures
    print(("ok   " if condition else "BAD  ") + what + ": " + json.dumps(reply, ensure_ascii=False))
    if not condition:
        failures += 1


# A status change without its quarter.
r = request(ingest, {"type": "status_change", "event_id": "ev-missing-quarter", "household_id": "V03-00417",
                     "status": "credit"})
expect("missing quarter -> missing_field [quarter]",
       r.get("ok") is False and r["error"]["code"] == "missing_field" and r["error"].get("field") == "quarter", r)
# Not JSON at all.
r = request(ingest, b"{not json")
expect("garbage -> invalid_json", r.get("ok") is False and r["error"]["code"] == "invalid_json", r)
# A status change for a household nobody registered.
r = request(ingest, {"type": "status_change", "event_id": "ev-2020Q3-V09-99999", "household_id": "V09-99999",
                     "status": "credit", "quarter": "2020Q3"})
expect("unregistered household -> unknown_household",
       r.get("ok") is False and r["error"]["code"] == "unknown_household" and r["error"].get("field") == "household_id", r)
# The same event id with different content.
r = request(ingest, {"type": "commitment", "event_id": "com-V03-00417", "household_id": "V03-00417",
                     "signed_on": "2021-01-01"})
expect("reused event_id -> conflict", r.get("ok") is False and r["error"]["code"] == "conflict", r)
# Admin endpoint.
r = request(admin, {"cmd": "ping"})
expect("admin ping", r == {"ok": True}, r)
r = request(admin, {"cmd": "household", "household_id": "V03-00417"})
hist = r.get("history", [])
expect("admin household: 4 events, corrected to credit",
       r.get("ok") is True and r.get("status") == "credit" and r.get("quarter") == "2020Q3"
       and [h["seq"] for h in hist] == [1, 2, 3, 10] and hist[-1].get("correction") is True, r)
# Roles: the publisher's key may not administer, the admin's may not publish; without CURVE
# there is no reply at all.
r = request(admin, {"cmd": "ping"}, key="publisher")
expect("publisher key on admin -> unauthorized", r.get("ok") is False and r["error"]["code"] == "unauthorized", r)
r = request(ingest, {"type": "household", "event_id": "reg-V03-00999", "household_id": "V03-00999",
                     "village": "V03", "head": "李四", "members": 3}, key="admin")
expect("admin key on ingest -> unauthorized", r.get("ok") is False and r["error"]["code"] == "unauthorized", r)
r = request(admin, {"cmd": "ping"}, curve=False, timeout_ms=1500)
expect("no CURVE -> no reply", r is None, r)
r = request(admin, {"cmd": "frobnicate"})
expect("admin unknown command -> unknown_command", r.get("ok") is False and r["error"]["code"] == "unknown_command", r)
sys.exit(1 if failures else 0)
PYEOF
)
RC=$?
echo "--- inline client ---"
echo "$RAW"
echo "---"
check "inline client checks all passed (exit $RC)" test "$RC" -eq 0
check "missing field reply: code missing_field, field quarter" contains "$RAW" '"code": "missing_field", "field": "quarter"'

# 5. The example against an endpoint where nobody listens: exit code 3.
FREE_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
OUT=$("$PY" "$EXAMPLE" --ingest "tcp://127.0.0.1:$FREE_PORT" --admin "tcp://127.0.0.1:$FREE_PORT" --timeout 1 2>&1)
RC=$?
check "example exits 3 when the hub does not answer (got $RC)" test "$RC" -eq 3
check "example says the hub did not answer" contains "$OUT" "the hub did not answer"

# 6. SIGTERM: hubd stops cleanly, exits 0 and removes its endpoints file.
kill -TERM "$HUBD_PID"
for _ in $(seq 150); do  # up to 15 s
  kill -0 "$HUBD_PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$HUBD_PID" 2>/dev/null; then
  fail "hubd still running 15 s after SIGTERM"
  kill -KILL "$HUBD_PID" 2>/dev/null
  wait "$HUBD_PID" 2>/dev/null
else
  wait "$HUBD_PID"
  RC=$?
  check "hubd exits 0 after SIGTERM (got $RC)" test "$RC" -eq 0
  check "hubd removed hubd.endpoints.json on exit" test ! -e "$ENDPOINTS"
  check "hubd logged a clean stop" grep -qF "hubd stopped cleanly" "$TMP/hubd.log"
fi
HUBD_PID=""

if [[ $failed -ne 0 ]]; then
  echo "--- hubd.log (last 30 lines) ---"
  tail -n 30 "$TMP/hubd.log"
fi
summary
