#!/usr/bin/python3
"""Load driver for attendance-backend (bench/backend/run.sh calls it).

Loopback only, bounded: every request has a timeout, sizes come from flags.
"""
import argparse
import http.client
import json
import sys
import threading
import time

SCANNER = "Bench-Scanner-01"
BASE_MS = 1_721_471_400_000  # 2024-07-20T10:30:00Z


def records(uuids, count, offset_ms=0):
    # Distinct (bleUuid, checkInTime) pairs: user i%len, time advancing per lap.
    n = len(uuids)
    return [{"bleUuid": uuids[i % n], "checkInTime": BASE_MS + offset_ms + (i // n) * 1000 + (i % n),
             "scannerId": SCANNER} for i in range(count)]


def body(event, recs):
    return json.dumps({"eventId": event, "records": recs}, separators=(",", ":")).encode()


class Client:
    def __init__(self, port, key, timeout=300):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}

    def post(self, payload):
        self.conn.request("POST", "/batchCheckIn", body=payload, headers=self.headers)
        res = self.conn.getresponse()
        data = res.read()
        return res.status, data


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024  # MiB
    return -1


def cmd_csv(a):
    uuids = json.load(open(a.seed))["bleUuids"]
    with open(a.out, "w") as f:
        for r in records(uuids, a.records):
            f.write(f'{a.event},{r["bleUuid"]},{r["checkInTime"]},{SCANNER}\n')


def cmd_body(a):
    uuids = json.load(open(a.seed))["bleUuids"]
    with open(a.out, "wb") as f:
        f.write(body(a.event, records(uuids, a.records)))


def cmd_post(a):
    """One timed POST of a prepared body into an empty event: prints the seconds."""
    key = json.load(open(a.seed))["apiKey"]
    payload = open(a.body, "rb").read()
    c = Client(a.port, key)
    t0 = time.perf_counter()
    status, data = c.post(payload)
    elapsed = time.perf_counter() - t0
    r = json.loads(data)
    assert status == 200 and r["inserted"] == a.records, (status, data[:300])
    print(f"{elapsed:.6f}")


def cmd_run(a):
    seed = json.load(open(a.seed))
    key, uuids = seed["apiKey"], seed["bleUuids"]
    out = {}
    big = body(a.event_big, records(uuids, a.records))
    out["body_bytes"] = len(big)
    out["rss_before_mib"] = vm(a.pid, "VmRSS")

    c = Client(a.port, key)
    t0 = time.perf_counter()
    status, data = c.post(big)
    out["post_s"] = time.perf_counter() - t0
    r = json.loads(data)
    assert status == 200 and r["inserted"] == a.records, (status, data[:300])
    out["peak_rss_mib"] = vm(a.pid, "VmHWM")

    t0 = time.perf_counter()
    status, data = c.post(big)
    out["repost_s"] = time.perf_counter() - t0
    r = json.loads(data)
    assert status == 200 and r["inserted"] == 0 and r["duplicates"] == a.records, (status, data[:300])
    del big

    # The original design's way: one round trip (one transaction) per record.
    singles = records(uuids, a.single)
    t0 = time.perf_counter()
    for rec in singles:
        status, data = c.post(body(a.event_single, [rec]))
        assert status == 200, (status, data)
    out["single_n"] = a.single
    out["single_s"] = time.perf_counter() - t0

    # 50 concurrent clients x 2000 records, each its own connection and records.
    results = [None] * a.clients
    payloads = [body(a.event_concurrent, records(uuids, a.per_client, offset_ms=(k + 1) * 10_000_000))
                for k in range(a.clients)]
    start = threading.Barrier(a.clients + 1)

    def worker(k):
        cl = Client(a.port, key)
        start.wait()
        try:
            results[k] = cl.post(payloads[k])[0]
        except Exception as e:  # counted as a failure below
            results[k] = repr(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=600)
    out["concurrent_s"] = time.perf_counter() - t0
    out["concurrent_ok"] = sum(1 for s in results if s == 200)
    out["concurrent_statuses"] = sorted({str(s) for s in results})
    out["clients"] = a.clients
    out["per_client"] = a.per_client
    json.dump(out, sys.stdout)
    print()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csv")
    c.add_argument("--seed", required=True)
    c.add_argument("--event", required=True)
    c.add_argument("--records", type=int, default=100_000)
    c.add_argument("--out", required=True)
    b = sub.add_parser("body")
    b.add_argument("--seed", required=True)
    b.add_argument("--event", required=True)
    b.add_argument("--records", type=int, default=100_000)
    b.add_argument("--out", required=True)
    o = sub.add_parser("post")
    o.add_argument("--seed", required=True)
    o.add_argument("--port", type=int, required=True)
    o.add_argument("--body", required=True)
    o.add_argument("--records", type=int, default=100_000)
    r = sub.add_parser("run")
    r.add_argument("--seed", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--event-big", required=True)
    r.add_argument("--event-single", required=True)
    r.add_argument("--event-concurrent", required=True)
    r.add_argument("--records", type=int, default=100_000)
    r.add_argument("--single", type=int, default=2_000)
    r.add_argument("--clients", type=int, default=50)
    r.add_argument("--per-client", type=int, default=2_000)
    a = p.parse_args()
    {"csv": cmd_csv, "body": cmd_body, "post": cmd_post, "run": cmd_run}[a.cmd](a)


if __name__ == "__main__":
    main()
