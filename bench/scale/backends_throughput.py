#!/usr/bin/python3
"""Ingest throughput through HAProxy with one backend vs two, alternating in one run (A B A B ...).

Each round creates a fresh event, writes SCANNERS logs of RECORDS records for it and times, wall clock,
the concurrent `attendance-sync` runs of all of them, once through a HAProxy frontend that has one
backend and once through a frontend that has both (the same two backend processes serve both rounds;
the rounds alternate, one-backend first in odd pairs and second in even ones). Prints each round and
the medians with their spread. Loopback only, bounded by --pairs.

  backends_throughput.py BACKEND ADMIN SYNC [--pairs 5] [--scanners 6] [--records 5000] [--batch 1000]
  (inside pg_virtualenv; results and the command in docs/benchmarks-backend.md, "Scale-out")"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'scale'))
import scale_out  # noqa: E402
from scale_out import Server, free_port, http_ok, summary_counts, wait_for  # noqa: E402

HAPROXY = """global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend one
    bind 127.0.0.1:{one}
    default_backend one
frontend two
    bind 127.0.0.1:{two}
    default_backend two
backend one
    server b1 127.0.0.1:{b1}
backend two
    balance roundrobin
    server b1 127.0.0.1:{b1}
    server b2 127.0.0.1:{b2}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('backend')
    ap.add_argument('admin')
    ap.add_argument('sync')
    ap.add_argument('--pairs', type=int, default=5)
    ap.add_argument('--scanners', type=int, default=6)
    ap.add_argument('--records', type=int, default=5000)
    ap.add_argument('--batch', type=int, default=1000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='attendance-scale-bench-')
    db = f'scale_bench_{os.getpid()}'
    subprocess.run(['createdb', db], check=True, timeout=60)
    env = dict(os.environ, DATABASE_URL=f'host=127.0.0.1 port={os.environ["PGPORT"]} dbname={db}')
    servers, haproxy = [], None

    def admin(*args):
        return subprocess.run([a.admin, *args], env=env, capture_output=True, text=True, check=True,
                              timeout=120).stdout

    try:
        admin('migrate')
        keys = {}
        for n in range(a.scanners):
            sid = f'Bench-Scanner-{n + 1:02d}'
            keys[sid] = os.path.join(tmp, f'{sid}.key')
            with open(os.open(keys[sid], os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as f:
                f.write(json.loads(admin('scanner', 'create', '--id', sid))['apiKey'] + '\n')
        args = [a.backend, 'serve', '--no-access-log', '--max-connections-per-address', '0', '--rate-limit', '0']
        servers = [Server(args, env, os.path.join(tmp, f'backend-{i}.log')) for i in (1, 2)]
        ports = {'one': free_port(), 'two': free_port()}
        cfg = os.path.join(tmp, 'haproxy.cfg')
        with open(cfg, 'w', encoding='ascii') as f:
            f.write(HAPROXY.format(b1=servers[0].port, b2=servers[1].port, **ports))
        haproxy = subprocess.Popen(['haproxy', '-db', '-f', cfg], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        for p in ports.values():
            wait_for('HAProxy', lambda p=p: http_ok(f'http://127.0.0.1:{p}/readyz'))
        rng = random.Random(1)
        results = {'one': [], 'two': []}
        round_no = 0
        print(f'{a.scanners} concurrent syncs × {a.records} records, batches of {a.batch}; '
              f'{a.pairs} pairs, alternating', flush=True)
        for pair in range(a.pairs):
            for mode in (('one', 'two') if pair % 2 == 0 else ('two', 'one')):
                round_no += 1
                event = f'ev-bench-{round_no}'
                admin('event', 'create', '--name', event, '--id', event)
                logs = {}
                now_ms = int(time.time() * 1000)
                for sid in keys:
                    admin('scanner', 'assign', '--id', sid, '--event', event)
                    logs[sid] = os.path.join(tmp, f'{event}-{sid}.jsonl')
                    with open(logs[sid], 'w', encoding='ascii') as f:
                        for i in range(a.records):
                            f.write(json.dumps({'bleUuid': str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                                'checkInTime': now_ms - 7_200_000 + i, 'scannerId': sid,
                                                'eventId': event}, separators=(',', ':')) + '\n')
                url = f'http://127.0.0.1:{ports[mode]}'
                start = time.monotonic()
                procs = [subprocess.Popen([a.sync, '--backend', url, '--api-key-file', keys[sid], '--log',
                                           logs[sid], '--batch-size', str(a.batch)], stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True) for sid in keys]
                inserted = 0
                for p in procs:
                    out, _ = p.communicate(timeout=600)
                    if p.returncode != 0:
                        raise SystemExit(f'sync failed ({p.returncode}):\n{out}')
                    inserted += summary_counts(out).get('inserted', 0)
                seconds = time.monotonic() - start
                total = a.scanners * a.records
                if inserted != total:
                    raise SystemExit(f'{inserted} inserted, expected {total}')
                results[mode].append(total / seconds)
                print(f'  pair {pair + 1} {mode} backend{"s" if mode == "two" else ""}: {seconds:6.2f} s, '
                      f'{total / seconds:8.0f} records/s', flush=True)
        print()
        print('| backends | median records/s | min | max |')
        print('|---|---|---|---|')
        for mode in ('one', 'two'):
            r = results[mode]
            print(f'| {mode} | {statistics.median(r):.0f} | {min(r):.0f} | {max(r):.0f} |')
        ratios = [t / o for o, t in zip(results['one'], results['two'])]
        print(f'\ntwo/one per pair: {", ".join(f"{x:.2f}" for x in ratios)}; median {statistics.median(ratios):.2f}')
    finally:
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(timeout=30)
        for s in servers:
            s.stop()
        subprocess.run(['dropdb', '--if-exists', '--force', db], capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
