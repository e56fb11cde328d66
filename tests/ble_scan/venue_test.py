#!/usr/bin/python3
"""End-to-end: `bluez-sim venue` plays a seeded venue against ble_scan_probe (a thin
BluezScanner consumer); every participant the truth says advertised above the RSSI
floor must be sighted, nothing else may be, and no simulator process may survive.

usage: venue_test.py BLUEZ_SIM PROBE"""

import json
import os
import re
import subprocess
import sys
import tempfile


def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def main():
    sim, probe = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix='ble-venue-') as tmp:
        truth_path = os.path.join(tmp, 'truth.json')
        out_path = os.path.join(tmp, 'sightings.jsonl')
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
        env.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        with open(out_path, 'w', encoding='utf-8') as out:
            # The probe's stdout goes to the file; bluez-sim passes its own stdout on.
            cmd = [sim, 'venue', '--phones', '80', '--duration', '4', '--seed', '7', '--truth', truth_path,
                   '--rssi-min', '-90', '--weak-ratio', '0.1', '--', probe, '--rssi-min', '-90']
            r = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, env=env, timeout=120, check=False)
        if r.returncode != 0:
            fail(f'bluez-sim venue exited {r.returncode}: {r.stderr.decode()[-2000:]}')
        with open(truth_path, encoding='utf-8') as f:
            truth = json.load(f)
        lines = [json.loads(l) for l in open(out_path, encoding='utf-8') if l.strip()]
        counters = [l['counters'] for l in lines if 'counters' in l]
        sightings = [l for l in lines if 'bleUuid' in l]
        if len(counters) != 1:
            fail('the probe did not stop cleanly (no counters line)')
        expected = {p['bleUuid']: p for p in truth['participants']}
        if len(expected) != 80:
            fail(f'truth lists {len(expected)} participants, expected 80')
        if truth['failedAdvertisements'] != 0:
            fail(f'{truth["failedAdvertisements"]} advertisements failed in the simulator')
        seen = {}
        for s in sightings:
            seen.setdefault(s['bleUuid'], []).append(s)
        unknown = set(seen) - set(expected)
        if unknown:
            fail(f'sightings of ids that never advertised: {sorted(unknown)[:5]}')
        missing = [u for u, p in expected.items()
                   if any(a['aboveFloor'] for a in p['advertisements']) and u not in seen]
        if missing:
            fail(f'{len(missing)} participants never sighted, e.g. {missing[:3]}')
        for u, ss in seen.items():
            p = expected[u]
            fmt = {'eddystone': 'eddystone'}.get(p['format'], p['format'])
            if any(s['format'] != fmt for s in ss):
                fail(f'{u}: format {ss[0]["format"]} but truth says {p["format"]}')
            if any(s['rssi'] is not None and s['rssi'] < -90 for s in ss):
                fail(f'{u}: sighting below the RSSI floor')
            first = min(a['atMs'] for a in p['advertisements'])
            if min(s['atMs'] for s in ss) + 50 < first:
                fail(f'{u}: sighted before it advertised')
        rotated = [p for p in truth['participants'] if len({a['address'] for a in p['advertisements']}) > 1]
        if not rotated:
            fail('the venue had no participant with a rotated address')
        c = counters[0]
        # Sighted devices are not removed (ADR 0021), and none goes stale (60 s) in this short venue.
        if c['ignoredNoise'] == 0 or c['devicesRemoved'] != 0 or c['trackedDevices'] == 0:
            fail(f'counters look wrong: {c}')
        print(f'ok: {len(seen)}/{len(expected)} participants sighted ({len(sightings)} sightings, '
              f'{len(rotated)} with rotated addresses, {truth["noiseAdvertisements"]} noise advertisements); '
              f'counters {c}')
    # No stray bus or mock of this run left behind (other runs may be in progress).
    m = re.search(r'unix:path=(/[^,]*/bluez-sim-[^/,]+)/', r.stderr.decode())
    if not m:
        fail('bluez-sim did not report its bus address')
    ps = subprocess.run(['ps', '-eo', 'args'], capture_output=True, text=True, check=True).stdout
    strays = [l for l in ps.splitlines() if m.group(1) in l]
    if strays:
        fail(f'stray processes: {strays}')
    if os.path.exists(m.group(1)):
        fail(f'temporary directory {m.group(1)} left behind')


if __name__ == '__main__':
    main()
