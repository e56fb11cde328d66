#!/usr/bin/python3
"""Recomputes every test vector of docs/beacon-spec.md with Python's hmac and hashlib.

An implementation independent of libs/beacon_id (written from the spec's text, sharing no code with
it), so a mobile team can trust the vectors it checks its Swift or Kotlin against. Usage:
spec_vectors_check.py docs/beacon-spec.md; exit 0 when every vector agrees, 1 otherwise.
"""
import datetime
import hashlib
import hmac
import sys

BEGIN = "<!-- beacon-vectors:begin -->"
END = "<!-- beacon-vectors:end -->"
FIELDS = ["key", "namespace", "period", "time", "utc", "window", "message", "hmac", "instance",
          "bleUuid", "ibeacon", "eddystone"]
LABEL = b"attendance-eid-v1"
MEASURED_POWER_AT_1M = -59   # iBeacon default
EDDYSTONE_TX_AT_0M = -18     # Eddystone-UID default


def vectors(doc):
    begin, end = doc.index(BEGIN), doc.index(END)
    block = doc[begin + len(BEGIN):end]
    block = block[block.index("```text\n") + len("```text\n"):block.rindex("```")]
    out = []
    for line in block.splitlines():
        if not line.strip():
            continue
        name, value = line.split(None, 1)
        if name == "vector":
            out.append({"vector": value.strip()})
        else:
            out[-1][name] = value.strip()
    return out


def compute(key_hex, ns_hex, period, time_ms):
    key, ns = bytes.fromhex(key_hex), bytes.fromhex(ns_hex)
    assert len(key) == 32 and len(ns) == 10
    window = (time_ms // 1000) // period
    message = LABEL + ns + window.to_bytes(8, "big")
    mac = hmac.new(key, message, hashlib.sha256).digest()
    instance = mac[:6]
    ble = ns + instance
    uuid = "-".join([ble[0:4].hex(), ble[4:6].hex(), ble[6:8].hex(), ble[8:10].hex(), ble[10:16].hex()])
    # iBeacon: flags AD, then manufacturer data AD: len 0x1a, type 0xff, Apple 0x004c little-endian,
    # 02 15, proximity UUID, major 0, minor 0, measured power.
    ibeacon = (bytes([0x02, 0x01, 0x06, 0x1a, 0xff, 0x4c, 0x00, 0x02, 0x15]) + ble + bytes([0, 0, 0, 0])
               + MEASURED_POWER_AT_1M.to_bytes(1, "big", signed=True))
    # Eddystone-UID: flags AD, complete 16-bit UUID list (FEAA), service data AD (len 0x17, type 0x16,
    # FEAA little-endian, frame 00, tx power at 0 m, namespace, instance, 2 reserved bytes).
    eddystone = (bytes([0x02, 0x01, 0x06, 0x03, 0x03, 0xaa, 0xfe, 0x17, 0x16, 0xaa, 0xfe, 0x00])
                 + EDDYSTONE_TX_AT_0M.to_bytes(1, "big", signed=True) + ble + bytes([0, 0]))
    assert len(ibeacon) <= 31 and len(eddystone) <= 31
    utc = datetime.datetime.fromtimestamp(time_ms // 1000, datetime.timezone.utc)
    return {
        "key": key.hex(), "namespace": ns.hex(), "period": str(period), "time": str(time_ms),
        "utc": utc.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (time_ms % 1000),
        "window": str(window), "message": message.hex(), "hmac": mac.hex(), "instance": instance.hex(),
        "bleUuid": uuid, "ibeacon": ibeacon.hex(), "eddystone": eddystone.hex(),
    }


def main():
    if len(sys.argv) != 2:
        print("usage: spec_vectors_check.py docs/beacon-spec.md", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        found = vectors(f.read())
    failures = []
    for v in found:
        names = [k for k in v if k != "vector"]
        if names != FIELDS:
            failures.append("vector %s: fields %s, expected %s" % (v["vector"], names, FIELDS))
            continue
        want = compute(v["key"], v["namespace"], int(v["period"]), int(v["time"]))
        for name in FIELDS:
            if v[name] != want[name]:
                failures.append("vector %s: %s is %s in the spec, Python computes %s"
                                % (v["vector"], name, v[name], want[name]))
    if len(found) < 4:
        failures.append("only %d vectors in the spec, expected at least 4" % len(found))
    for f in failures:
        print(f)
    if failures:
        return 1
    print("%d vectors of %s agree with Python's hmac/hashlib" % (len(found), sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
