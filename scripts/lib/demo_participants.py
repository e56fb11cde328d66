#!/usr/bin/python3
"""Demo helper: registers participants through the backend's participant API,
as the mobile app would, and writes who comes to the venue with what.

  demo_participants.py BACKEND_URL EVENT_ID REGISTERED WALK_INS BEACONS OUT_DIR

Creates REGISTERED + WALK_INS accounts; registers the first REGISTERED for the
event. Of the people who come (85 % of the registered plus every walk-in), BEACONS
chosen at random come with a laptop running the real attendance-beacon, the rest
with a simulated phone. Writes OUT_DIR/phones.txt (the phones' bleUuids),
OUT_DIR/beacons.txt (per beacon participant: email, bleUuid, password file, one
tab-separated line each), OUT_DIR/beacons/<email>.password (mode 0600: each
attendance-beacon signs in with its own) and OUT_DIR/expected.json (counts)."""

import json
import os
import random
import sys
import time
import urllib.error
import urllib.request


def call(url, body=None, token=None, method=None, attempts=5):
    try:
        return _call(url, body, token, method)
    except urllib.error.HTTPError as e:
        # As the mobile app does: honour 429/503 Retry-After, give up on anything else.
        if e.code in (429, 503) and attempts > 1:
            time.sleep(float(e.headers.get('Retry-After', '1')))
            return call(url, body, token, method, attempts - 1)
        raise SystemExit(f'demo: {method or "POST"} {url} failed: {e.code} {e.read().decode(errors="replace")}')


def _call(url, body, token, method):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method or ('POST' if data else 'GET'))
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('Authorization', f'Bearer {token}')
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b'{}')


def main():
    backend, event_id = sys.argv[1], sys.argv[2]
    registered, walk_ins, beacons, out = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    rng = random.Random(7)
    first = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Alan', 'Radia', 'Zoë', 'José']
    last = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Kay', 'Perlman']
    people = []
    accounts = {}  # bleUuid -> (email, password)
    for i in range(registered + walk_ins):
        name = f'{rng.choice(first)} {rng.choice(last)}'
        email = f'participant{i:04d}@demo.example'
        account = call(f'{backend}/api/participants', {'email': email, 'displayName': name, 'password': f'demo-pass-{i:04d}'})
        if i < registered:
            call(f'{backend}/api/events/{event_id}/registrations', {}, token=account['token'])
        people.append(account['bleUuid'])
        accounts[account['bleUuid']] = (email, f'demo-pass-{i:04d}')
        if (i + 1) % 50 == 0 or i + 1 == registered + walk_ins:
            print(f'  {i + 1}/{registered + walk_ins} participants created through the API', flush=True)
    attending = [u for u in people[:registered] if rng.random() < 0.85]
    coming = attending + people[registered:]
    with_beacon = set(rng.sample(coming, min(beacons, len(coming))))
    phones = [u for u in coming if u not in with_beacon]
    with open(f'{out}/phones.txt', 'w', encoding='utf-8') as f:
        f.write('\n'.join(phones) + '\n')
    os.makedirs(f'{out}/beacons', mode=0o700, exist_ok=True)
    with open(f'{out}/beacons.txt', 'w', encoding='utf-8') as f:
        for ble_uuid in (u for u in coming if u in with_beacon):
            email, password = accounts[ble_uuid]
            password_file = f'{out}/beacons/{email}.password'
            with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w',
                      encoding='utf-8') as p:
                p.write(password + '\n')
            f.write(f'{email}\t{ble_uuid}\t{password_file}\n')
    with open(f'{out}/expected.json', 'w', encoding='utf-8') as f:
        json.dump({'registered': registered, 'attended': len(attending), 'walkIns': walk_ins}, f)


if __name__ == '__main__':
    main()
