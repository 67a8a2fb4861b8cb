#!/usr/bin/env python3
"""Publish to Chengxin Hub (诚信枢纽) from Python, without any of the hub's C++ code.

What it does, in order (see docs/protocol.md for every message):

  1. registers one household (户), publishes its signed commitment letter (双向承诺书) and
     its 2020Q3 evaluation result (评议) -- one event per request;
  2. publishes a 2020Q2 evaluation for the same household, which the hub must reject with
     ``stale_quarter`` (older than the household's current quarter);
  3. previews a batch (``"dry_run": true``, nothing stored), then publishes it (atomic:
     all stored or none);
  4. sends a batch with one bad item, which is rejected as a whole (``invalid_batch``,
     every bad item listed by index);
  5. asks the admin endpoint for ``status`` and prints it.

The event ids are fixed, so running the script again stores nothing new: every event comes
back with ``"duplicate": true`` and its original sequence number (idempotent publishing).

Requirements: Python 3 and pyzmq (Debian/Ubuntu: ``apt-get install python3-zmq``).

Usage:
  publish.py [--ingest tcp://127.0.0.1:7001] [--admin tcp://127.0.0.1:7004]
             [--household V03-00417] [--timeout 5]

Exit codes: 0 success, 1 a request was rejected unexpectedly, 2 usage error,
3 the hub did not answer in time.
"""

import argparse
import os
import json
import sys

try:
    import zmq
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("publish.py: pyzmq is missing (Debian/Ubuntu: apt-get install python3-zmq)\n")
    sys.exit(2)

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class HubUnreachable(Exception):
    pass


class Rejected(Exception):
    def __init__(self, what, reply):
        super().__init__(what)
        self.what = what
        self.reply = reply


class HubClient:
    """One REQ socket: send one JSON frame, receive one JSON frame.

    A REQ socket that timed out waiting for a reply cannot send again, so after a timeout
    the client gives up (a long-running program would close the socket and open a new one).
    """

    def __init__(self, context, endpoint, timeout_ms, keys_dir=None, key_name=None):
        self.endpoint = endpoint
        self.socket = context.socket(zmq.REQ)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.socket.setsockopt(zmq.SNDTIMEO, timeout_ms)
        if keys_dir:
            # CURVE (docs/protocol.md §1): the hub's public key and this client's key pair.
            with open(os.path.join(keys_dir, "hub.curve.pub")) as f:
                self.socket.curve_serverkey = f.read().strip().encode()
            with open(os.path.join(keys_dir, key_name + ".curve.key")) as f:
                secret = f.read().strip().encode()
            self.socket.curve_secretkey = secret
            self.socket.curve_publickey = zmq.curve_public(secret)
        self.socket.connect(endpoint)

    def request(self, message):
        try:
            # One frame of UTF-8 JSON; ensure_ascii=False keeps Chinese text readable.
            self.socket.send(json.dumps(message, ensure_ascii=False).encode("utf-8"))
            frame = self.socket.recv()
        except zmq.Again:
            raise HubUnreachable(self.endpoint)
        return json.loads(frame.decode("utf-8"))

    def close(self):
        self.socket.close()


def show(reply):
    """Prints the reply as the hub sent it (same keys, same order)."""
    print("  reply: " + json.dumps(reply, ensure_ascii=False))


def error_text(reply):
    e = reply.get("error", {})
    text = "{}: {}".format(e.get("code", "?"), e.get("message", ""))
    if "field" in e:
        text += " [field {}]".format(e["field"])
    return text


def publish_one(ingest, event):
    """Publishes one event; returns its seq. Raises Rejected on ok=false."""
    reply = ingest.request(event)
    what = "{} {}".format(event["type"], event["event_id"])
    if not reply.get("ok"):
        print("{}: rejected: {}".format(what, error_text(reply)))
        show(reply)
        raise Rejected(what, reply)
    # A duplicate is success: the hub already has exactly this event under that seq.
    note = "duplicate, already stored" if reply.get("duplicate") else "new"
    print("{}: seq {} ({})".format(what, reply["seq"], note))
    show(reply)
    return reply["seq"]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Publish to Chengxin Hub over ZeroMQ (see docs/protocol.md).")
    parser.add_argument("--ingest", default="tcp://127.0.0.1:7001", help="ingest endpoint (default %(default)s)")
    parser.add_argument("--admin", default="tcp://127.0.0.1:7004", help="admin endpoint (default %(default)s)")
    parser.add_argument("--household", default="V03-00417", help="household id to publish (default %(default)s)")
    parser.add_argument("--keys", default=None,
                        help="CURVE keys directory with hub.curve.pub, publisher.curve.key and admin.curve.key "
                             "(hubd writes them to DATA_DIR/keys on first start); leave out for an insecure hub")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each reply (default %(default)s)")
    args = parser.parse_args(argv)  # exits 2 on a usage error
    if args.timeout <= 0:
        parser.error("--timeout must be positive")

    h = args.household
    village = h.split("-")[0] if "-" in h else "V03"
    timeout_ms = int(args.timeout * 1000)

    context = zmq.Context()
    ingest = HubClient(context, args.ingest, timeout_ms, args.keys, "publisher")
    admin = HubClient(context, args.admin, timeout_ms, args.keys, "admin")
    try:
        # 1. One event per request.
        publish_one(ingest, {"type": "household", "event_id": "reg-" + h, "household_id": h,
                             "village": village, "head": "张三", "members": 4})
        publish_one(ingest, {"type": "commitment", "event_id": "com-" + h, "household_id": h,
                             "signed_on": "2020-04-15"})
        publish_one(ingest, {"type": "status_change", "event_id": "ev-2020Q3-" + h, "household_id": h,
                             "status": "non_credit", "designations": ["assistance"], "quarter": "2020Q3",
                             "effective_date": "2020-10-01",
                             "basis": "2020-09-28 village evaluation meeting, minutes 3"})

        # 2. An evaluation older than the household's current quarter is refused.
        stale = {"type": "status_change", "event_id": "ev-2020Q2-" + h, "household_id": h,
                 "status": "credit", "quarter": "2020Q2"}
        reply = ingest.request(stale)
        if reply.get("ok"):
            print("stale evaluation: unexpectedly accepted")
            show(reply)
            return EXIT_REJECTED
        print("stale evaluation {}: rejected as expected: {}".format(stale["event_id"], error_text(reply)))
        show(reply)
        if reply["error"]["code"] != "stale_quarter":
            return EXIT_REJECTED

        # 3. A batch: two more households of the same village, their commitments and
        #    evaluations, plus a correction (更正) of the first household's 2020Q3 result.
        events = []
        for n in ("90001", "90002"):
            other = "{}-{}".format(village, n)
            events += [
                {"type": "household", "event_id": "reg-" + other, "household_id": other, "village": village,
                 "members": 3},
                {"type": "commitment", "event_id": "com-" + other, "household_id": other, "signed_on": "2020-04-16"},
                {"type": "status_change", "event_id": "ev-2020Q3-" + other, "household_id": other,
                 "status": "credit", "quarter": "2020Q3"},
            ]
        events.append({"type": "status_change", "event_id": "ev-2020Q3-" + h + "-correction-1", "household_id": h,
                       "status": "credit", "quarter": "2020Q3",
                       "basis": "complaint upheld by the supervision group"})
        batch = {"type": "batch", "events": events}

        preview = ingest.request(dict(batch, dry_run=True))
        if not preview.get("ok"):
            print("batch dry run: rejected: " + error_text(preview))
            show(preview)
            raise Rejected("batch dry run", preview)
        print("batch dry run: {} events, would_store {}, duplicates {} (nothing stored)".format(
            preview["count"], preview["would_store"], preview["duplicates"]))
        show(preview)

        reply = ingest.request(batch)
        if not reply.get("ok"):
            print("batch: rejected: " + error_text(reply))
            show(reply)
            raise Rejected("batch", reply)
        seqs = [r["seq"] for r in reply["results"]]
        print("batch: {} events, stored {}, duplicates {}, seqs {}".format(
            reply["count"], reply["stored"], reply["duplicates"], " ".join(str(s) for s in seqs)))
        show(reply)

        # 4. One bad item makes the whole batch fail; nothing of it is stored.
        bad = {"type": "batch", "events": [
            {"type": "status_change", "event_id": "ev-2020Q4-" + h, "household_id": h,
             "status": "credit", "quarter": "2020Q4"},
            {"type": "status_change", "event_id": "ev-2020Q4-{}-90001".format(village),
             "household_id": "{}-90001".format(village), "status": "trustworthy", "quarter": "2020Q4"},
        ]}
        reply = ingest.request(bad)
        if reply.get("ok"):
            print("bad batch: unexpectedly accepted")
            show(reply)
            return EXIT_REJECTED
        print("bad batch: rejected as expected: " + error_text(reply))
        for item in reply.get("errors", []):
            print("  item {}: {} [field {}]: {}".format(item["index"], item["code"], item.get("field", "-"),
                                                       item["message"]))
        show(reply)

        # 5. Delivery status per department (部门送达情况).
        status = admin.request({"cmd": "status"})
        if not status.get("ok"):
            print("status: rejected: " + error_text(status))
            raise Rejected("status", status)
        print("status: last_seq {}, {} departments".format(status["last_seq"], len(status["departments"])))
        for d in status["departments"]:
            print("  {id} {name_zh}: state {state}, cursor {cursor}, lag {lag}, oldest_undelivered_ms "
                  "{oldest_undelivered_ms}, delivered {delivered}, failed {failed}, parked {parked}".format(**d))
        print("  reply: " + json.dumps(status, ensure_ascii=False))
        return EXIT_OK
    except HubUnreachable as e:
        sys.stderr.write("publish.py: the hub did not answer at {} within {} s (is hubd running?)\n".format(
            e.args[0], args.timeout))
        return EXIT_UNREACHABLE
    except Rejected as e:
        sys.stderr.write("publish.py: {} was rejected: {}\n".format(e.what, error_text(e.reply)))
        return EXIT_REJECTED
    finally:
        ingest.close()
        admin.close()
        context.term()


if __name__ == "__main__":
    sys.exit(main())
