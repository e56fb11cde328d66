#!/usr/bin/python3
"""Issue 15 §2 on real engines, all on loopback: two attendance-backend processes and two attendance-admin
servers over one PostgreSQL primary, behind HAProxy (Debian `haproxy`), the admin servers reading reports
from a streaming replica (`pg_basebackup` of the primary, started as a hot standby).

  1. Six scanners' logs are synced at once through the proxy, in small batches.
  2. While they sync, one backend is killed (SIGKILL: no drain, requests cut in the middle).
  3. Every sync still ends with exit 0, the primary holds every record of every log exactly once, the
     syncs' own tables add up (inserted ≤ records ≤ inserted + duplicates: a batch the killed backend
     stored but could not answer is sent again and comes back as duplicates), and a second sync of every
     log inserts nothing.
  4. The report, read through the proxy from both admin servers (so from the replica), converges to
     the primary's counts within 30 s.

What this shows first is the failure: the killed backend's in-flight batches are lost to it (the sync
output names the cut connections); what holds is idempotent ingest plus the client's retries plus
HAProxy's health checks (docs/scaling.md).

  scale_out.py BACKEND ADMIN SYNC   (inside pg_virtualenv: PG* name the primary)

About 30-60 s. On failure the directory with every program's log and HAProxy's configuration is kept."""

import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import uuid

BACKEND_BIN = ADMIN_BIN = SYNC_BIN = None  # set by main (or by bench/scale, which imports this module)

EVENT = 'ev-scale-out'
SCANNERS = 6
RECORDS_PER_SCANNER = 5000
BATCH = 100
ADMIN_EMAIL = 'organizer@example.org'
ADMIN_PASSWORD = 'scale-out correct horse'
CONVERGE_WITHIN = 30.0  # seconds for the replica's reports to show what the primary has


def note(text):
    print(f'[{time.strftime("%H:%M:%S")}] {text}', file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(what, done, within=30.0, every=0.1):
    until = time.monotonic() + within
    while time.monotonic() < until:
        if done():
            return
        time.sleep(every)
    raise AssertionError(f'timed out after {within:.0f} s waiting for {what}')


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def psql(port, db, sql):
    r = subprocess.run(['psql', '-X', '-A', '-t', '-h', '127.0.0.1', '-p', str(port), '-d', db, '-v',
                        'ON_ERROR_STOP=1', '-c', sql], capture_output=True, text=True, timeout=60, check=True)
    return r.stdout.strip()


def as_postgres(cmd):
    """PostgreSQL refuses to run as root; pg_virtualenv's own cluster runs as `postgres`, so does ours."""
    return ['runuser', '-u', 'postgres', '--', *cmd] if os.geteuid() == 0 else cmd


class Replica:
    """A hot standby of pg_virtualenv's cluster: pg_basebackup -R, our own postgresql.conf and pg_hba.conf
    (Debian keeps the primary's in /etc, which a base backup does not copy)."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, 'replica')
        self.port = free_port()
        self.log = os.path.join(tmp, 'replica.log')
        os.makedirs(self.dir, mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(tmp, 'postgres')
            shutil.chown(self.dir, 'postgres')
        env = dict(os.environ)
        # A replication slot keeps the WAL the replica still needs: the primary is shared with other tests,
        # whose forced checkpoints would otherwise recycle it before the replica connects.
        self.slot = f'scale_{os.getpid()}_{uuid.uuid4().hex[:8]}'
        subprocess.run(as_postgres(['env', f'PGPASSWORD={env["PGPASSWORD"]}', 'pg_basebackup', '-h', '127.0.0.1',
                                    '-p', env['PGPORT'], '-U', env['PGUSER'], '-D', self.dir, '-R', '-X', 'stream',
                                    '-C', '-S', self.slot, '-c', 'fast']), check=True, timeout=120,
                       capture_output=True)
        with open(os.path.join(self.dir, 'postgresql.conf'), 'a', encoding='ascii') as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{tmp}'\n"
                    "hot_standby = on\nhot_standby_feedback = on\nmax_connections = 200\n")
        with open(os.path.join(self.dir, 'pg_hba.conf'), 'w', encoding='ascii') as f:
            f.write('local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n')
        bin_dir = subprocess.run(['pg_config', '--bindir'], capture_output=True, text=True,
                                 check=True).stdout.strip()
        self.pg_ctl = os.path.join(bin_dir, 'pg_ctl')
        subprocess.run(as_postgres([self.pg_ctl, '-D', self.dir, '-l', self.log, '-w', 'start']), check=True,
                       timeout=120, capture_output=True)

    def stop(self):
        subprocess.run(as_postgres([self.pg_ctl, '-D', self.dir, '-m', 'immediate', 'stop']), timeout=60,
                       capture_output=True, check=False)
        subprocess.run(['psql', '-X', '-h', '127.0.0.1', '-d', 'postgres', '-c',
                        f"SELECT pg_drop_replication_slot('{self.slot}')"], capture_output=True, timeout=60,
                       check=False)


class Server:
    """attendance-backend serve or attendance-admin serve on a free port; stderr to `log`."""

    def __init__(self, argv, env, log):
        self.port = free_port()
        self.log = log
        with open(log, 'ab') as err:
            self.proc = subprocess.Popen([*argv, '--listen', f'127.0.0.1:{self.port}'], env=env,
                                         stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        wait_for(f'{os.path.basename(argv[0])} on port {self.port} to be ready', self.ready, within=30)

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f'{self.log}: exited {self.proc.returncode}\n{open(self.log).read()}')
        return http_ok(f'http://127.0.0.1:{self.port}/readyz')

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


HAPROXY_CFG = """global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request that could not reach a server (refused, reset before an answer) goes to the other one.
    retries 3
    option redispatch
    retry-on conn-failure empty-response
frontend api
    bind 127.0.0.1:{api_port}
    default_backend backends
backend backends
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    server b1 127.0.0.1:{b1} check inter 300ms fall 2 rise 2
    server b2 127.0.0.1:{b2} check inter 300ms fall 2 rise 2
frontend admin
    bind 127.0.0.1:{admin_port}
    default_backend admins
backend admins
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    server a1 127.0.0.1:{a1} check inter 300ms fall 2 rise 2
    server a2 127.0.0.1:{a2} check inter 300ms fall 2 rise 2
"""


class AdminClient:
    """Signs in to the admin console (login form, CSRF cookie) and reads report JSON."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        with self.opener.open(f'{base}/login', timeout=10) as r:
            page = r.read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({'email': ADMIN_EMAIL, 'password': ADMIN_PASSWORD, 'csrf': csrf}).encode()
        with self.opener.open(f'{base}/login', data=body, timeout=30) as r:
            r.read()
        if not any('session' in c.name for c in self.jar):
            raise AssertionError('the admin sign-in set no session cookie')

    def report(self):
        with self.opener.open(f'{self.base}/api/events/{EVENT}/report', timeout=10) as r:
            return json.loads(r.read())


def summary_counts(out):
    """The numbers of attendance-sync's summary table ('records sent', 'inserted', 'duplicates', ...)."""
    return {m.group(1): int(m.group(2).replace(',', ''))
            for m in re.finditer(r'^  ([a-z][a-z ()]*?)\s+([\d,]+)$', out, re.M)}


class ScaleOut(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='attendance-scale-')
        os.chmod(self.tmp, 0o755)
        self.servers, self.replica, self.haproxy, self.db = [], None, None, None
        self.failed = True

    def tearDown(self):
        for s in self.servers:
            s.stop()
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=30)
        if self.replica is not None:
            self.replica.stop()
        if self.db is not None:
            subprocess.run(['dropdb', '--if-exists', '--force', self.db], capture_output=True, timeout=60)
        if self.failed:
            note(f'kept for inspection: {self.tmp}')
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def admin_cli(self, *args, stdin=None):
        r = subprocess.run([ADMIN_BIN, *args], env=self.env, input=stdin, capture_output=True, text=True,
                           timeout=120, check=False)
        if r.returncode != 0:
            raise AssertionError(f'attendance-admin {" ".join(args)}: exit {r.returncode}\n{r.stderr}')
        return r.stdout

    def write_log(self, scanner, rng, now_ms):
        path = os.path.join(self.tmp, f'{scanner}.jsonl')
        records = set()
        with open(path, 'w', encoding='ascii') as f:
            for i in range(RECORDS_PER_SCANNER):
                ble = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                t = now_ms - 7_200_000 + i * 1000 + rng.randrange(1000)
                records.add((ble, t, scanner))
                f.write(json.dumps({'bleUuid': ble, 'checkInTime': t, 'scannerId': scanner, 'eventId': EVENT},
                                   separators=(',', ':')) + '\n')
        return path, records

    def sync(self, url, key, log):
        return subprocess.Popen([SYNC_BIN, '--backend', url, '--api-key-file', key, '--log', log, '--batch-size',
                                 str(BATCH), '--request-timeout', '5', '--retries', '8'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def test_two_backends_behind_haproxy_one_killed_mid_sync_every_record_once_and_replica_reports_converge(self):
        seed = int(os.environ.get('ATTENDANCE_SCALE_SEED', random.randrange(1 << 30)))
        note(f'seed {seed} (ATTENDANCE_SCALE_SEED={seed} repeats it); work directory {self.tmp}')
        rng = random.Random(seed)
        self.db = f'scale_{os.getpid()}_{uuid.uuid4().hex[:8]}'
        subprocess.run(['createdb', self.db], check=True, timeout=60)
        primary_url = f'host=127.0.0.1 port={os.environ["PGPORT"]} dbname={self.db}'
        self.env = dict(os.environ, DATABASE_URL=primary_url)
        self.admin_cli('migrate')
        self.admin_cli('event', 'create', '--name', 'Scale-out', '--venue', 'Hall A', '--id', EVENT)
        password_file = os.path.join(self.tmp, 'admin-password')
        with open(password_file, 'w', encoding='ascii') as f:
            f.write(ADMIN_PASSWORD + '\n')
        self.admin_cli('create-admin', '--email', ADMIN_EMAIL, '--password-file', password_file)
        keys = {}
        for n in range(SCANNERS):
            sid = f'Scale-Scanner-{n + 1:02d}'
            keys[sid] = os.path.join(self.tmp, f'{sid}.key')
            api_key = json.loads(self.admin_cli('scanner', 'create', '--id', sid))['apiKey']
            with open(os.open(keys[sid], os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as f:
                f.write(api_key + '\n')
            self.admin_cli('scanner', 'assign', '--id', sid, '--event', EVENT)

        self.replica = Replica(self.tmp)
        self.assertEqual(psql(self.replica.port, self.db, 'SELECT pg_is_in_recovery()'), 't')
        replica_url = f'host=127.0.0.1 port={self.replica.port} dbname={self.db}'
        note(f'primary on port {os.environ["PGPORT"]}, streaming replica on {self.replica.port}')

        backend_args = [BACKEND_BIN, 'serve', '--no-access-log', '--max-connections-per-address', '0',
                        '--rate-limit', '0']
        b1 = Server(backend_args, self.env, os.path.join(self.tmp, 'backend-1.log'))
        b2 = Server(backend_args, self.env, os.path.join(self.tmp, 'backend-2.log'))
        admin_args = [ADMIN_BIN, 'serve', '--report-database-url', replica_url, '--report-refresh-seconds', '1']
        a1 = Server(admin_args, self.env, os.path.join(self.tmp, 'admin-1.log'))
        a2 = Server(admin_args, self.env, os.path.join(self.tmp, 'admin-2.log'))
        self.servers += [b1, b2, a1, a2]
        api_port, admin_port = free_port(), free_port()
        cfg = os.path.join(self.tmp, 'haproxy.cfg')
        with open(cfg, 'w', encoding='ascii') as f:
            f.write(HAPROXY_CFG.format(api_port=api_port, admin_port=admin_port, b1=b1.port, b2=b2.port, a1=a1.port,
                                       a2=a2.port))
        with open(os.path.join(self.tmp, 'haproxy.log'), 'wb') as err:
            self.haproxy = subprocess.Popen(['haproxy', '-db', '-f', cfg], stdout=subprocess.DEVNULL, stderr=err)
        api = f'http://127.0.0.1:{api_port}'
        wait_for('HAProxy to see both backends', lambda: http_ok(f'{api}/readyz'))

        now_ms = int(time.time() * 1000)
        logs, expected = {}, set()
        for sid in keys:
            logs[sid], records = self.write_log(sid, rng, now_ms)
            expected |= records
        total = len(expected)
        note(f'{SCANNERS} scanners × {RECORDS_PER_SCANNER} records, batches of {BATCH}, through HAProxy {api}')

        syncs = {sid: self.sync(api, keys[sid], logs[sid]) for sid in keys}
        # Kill one backend once a fair part is stored: no drain, its in-flight batches cut off.
        wait_for('the first batches', lambda: int(psql(os.environ['PGPORT'], self.db,
                                                          'SELECT count(*) FROM check_ins')) >= total // 5,
                 within=120, every=0.05)
        stored_at_kill = int(psql(os.environ['PGPORT'], self.db, 'SELECT count(*) FROM check_ins'))
        b1.stop(signal.SIGKILL)
        note(f'backend 1 killed (SIGKILL) with {stored_at_kill} of {total} records stored')
        self.assertLess(stored_at_kill, total, 'the syncs had finished before the kill: nothing was tested')
        self.assertFalse(http_ok(f'http://127.0.0.1:{b1.port}/readyz'), 'backend 1 still answers')

        inserted = duplicates = 0
        outputs = []
        for sid, p in syncs.items():
            out, err = p.communicate(timeout=300)
            outputs.append(f'--- {sid}: exit {p.returncode}\n{out}{err}')
            self.assertEqual(p.returncode, 0, f'{sid}:\n{out}\n{err}')
            counts = summary_counts(out)
            inserted += counts.get('inserted', 0)
            duplicates += counts.get('duplicates', 0)
        with open(os.path.join(self.tmp, 'syncs.txt'), 'w', encoding='utf-8') as f:
            f.write('\n'.join(outputs))

        rows = psql(os.environ['PGPORT'], self.db,
                    f"SELECT ble_uuid, check_in_time, scanner_id FROM check_ins WHERE event_id = '{EVENT}'")
        stored = [tuple(line.split('|')) for line in rows.splitlines() if line]
        stored = [(b, int(t), s) for b, t, s in stored]
        self.assertEqual(len(stored), len(set(stored)))
        self.assertEqual(set(stored), expected, 'the primary does not hold exactly the logs\' records')
        # A batch the killed backend committed but could not answer is sent again and comes back as
        # duplicates: "inserted" may fall short of the records by such batches, never exceed them, and
        # inserted + duplicates covers every record.
        self.assertLessEqual(inserted, total, 'more records inserted than the logs hold')
        self.assertGreaterEqual(inserted + duplicates, total, 'records neither inserted nor found stored')
        wait_for('HAProxy to mark backend 1 down', lambda: 'b1 is DOWN' in open(
            os.path.join(self.tmp, 'haproxy.log'), encoding='utf-8', errors='replace').read(), within=10)
        retried = sum(1 for o in outputs if 'trying again' in o or 'attempt' in o)
        note(f'all {total} records stored once; the syncs counted {inserted} inserted, {duplicates} resent '
             f'and found already stored; {retried} of {SCANNERS} syncs had to retry (HAProxy re-sent the rest)')

        for sid in keys:  # a second sync sends nothing: the checkpoints hold what was acknowledged
            p = self.sync(api, keys[sid], logs[sid])
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, f'{sid}:\n{out}\n{err}')
            self.assertEqual(summary_counts(out).get('inserted', 0), 0, out)

        # The reports come from the replica, through either admin server.
        clients = [AdminClient(f'http://127.0.0.1:{admin_port}') for _ in range(2)]
        last = {}

        def converged():
            for c in clients:
                rep = c.report()
                last['report'] = rep
                if rep['summary']['unknownDevices'] != total:
                    return False
                if sorted(s['scannerId'] for s in rep['scanners']) != sorted(keys):
                    return False
            return True

        wait_for('the replica\'s reports to show every record', converged, within=CONVERGE_WITHIN, every=0.5)
        summary = last['report']['summary']
        note(f'report read through HAProxy from the replica: {summary}')
        replica_count = int(psql(self.replica.port, self.db, 'SELECT count(*) FROM check_ins'))
        self.assertEqual(replica_count, total)
        self.failed = False


if __name__ == '__main__':
    BACKEND_BIN, ADMIN_BIN, SYNC_BIN = (os.path.abspath(p) for p in sys.argv[1:4])
    del sys.argv[1:4]
    unittest.main(verbosity=2)
