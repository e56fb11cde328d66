#!/usr/bin/python3
"""Demo helper: registers participants through the backend's participant API,
as the mobile app would, and writes the bleUuids the simulated phones broadcast.

  demo_participants.py BACKEND_URL EVENT_ID REGISTERED WALK_INS OUT_DIR

Creates REGISTERED + WALK_INS accounts; registers the first REGISTERED for the
event. Writes OUT_DIR/phones.txt (bleUuids of the phones that come to the venue:
85 % of the registered plus every walk-in) and OUT_DIR/expected.json (counts)."""

import json
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
    backend, event_id, registered, walk_ins, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rng = random.Random(7)
    first = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Alan', 'Radia', 'Zoë', 'José']
    last = ['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Kay', 'Perlman']
    people = []
    for i in range(registered + walk_ins):
        name = f'{rng.choice(first)} {rng.choice(last)}'
        email = f'participant{i:04d}@demo.example'
        account = call(f'{backend}/api/participants', {'email': email, 'displayName': name, 'password': f'demo-pass-{i:04d}'})
        if i < registered:
            call(f'{backend}/api/events/{event_id}/registrations', {}, token=account['token'])
        people.append(account['bleUuid'])
        if (i + 1) % 50 == 0 or i + 1 == registered + walk_ins:
            print(f'  {i + 1}/{registered + walk_ins} participants created through the API', flush=True)
    attending = [u for u in people[:registered] if rng.random() < 0.85]
    phones = attending + people[registered:]
    with open(f'{out}/phones.txt', 'w', encoding='utf-8') as f:
        f.write('\n'.join(phones) + '\n')
    with open(f'{out}/expected.json', 'w', encoding='utf-8') as f:
        json.dump({'registered': registered, 'attended': len(attending), 'walkIns': walk_ins}, f)


if __name__ == '__main__':
    main()
