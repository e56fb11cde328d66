#!/usr/bin/python3
"""Issue 15 §1 TLS, on loopback: the shipped HAProxy configuration (packaging/haproxy/attendance-tls.cfg,
changed only in its ports, certificate path and log target) terminating TLS in front of an
attendance-backend and an attendance-admin server, with a throwaway CA and server certificate made by
openssl. Checks what an operator would:

  - attendance-sync uploads over https with --ca-file, and refuses a wrong CA with a clear error;
  - plain http to the TLS port fails clearly, plain http on port 80 is redirected to https;
  - the admin console's cookies are Secure (and __Host-) behind the proxy, every answer has HSTS;
  - per-address sign-in limits: behind the trusted proxy two clients are limited separately, while a
    direct client forging X-Forwarded-For cannot escape its limit (--trusted-proxy, ADR 0041);
  - a renewed certificate is taken by a HAProxy reload (master-worker, SIGUSR2) while a sync is uploading,
    and that sync still ends with every record stored.

  tls_proxy.py BACKEND ADMIN SYNC   (inside pg_virtualenv: PG* name the database server)

About 20-40 s. On failure the directory with every program's log and the configuration is kept."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_out as so  # noqa: E402  (its Server, helpers and PostgreSQL set-up)

SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packaging', 'haproxy',
                       'attendance-tls.cfg')
BACKEND_BIN = ADMIN_BIN = SYNC_BIN = None
EVENT = 'ev-tls'
ADMIN_EMAIL = 'organizer@example.org'
ADMIN_PASSWORD = 'tls proxy correct horse'
SCANNERS = ['TLS-Scanner-01', 'TLS-Scanner-02', 'TLS-Scanner-03']


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def read(path, mode='r'):
    with open(path, mode) as f:  # pylint: disable=unspecified-encoding
        return f.read()


def make_ca(tmp, name):
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
            '-keyout', f'{name}.key', '-out', f'{name}.pem', '-subj', f'/CN=Attendance test {name}', cwd=tmp)
    return os.path.join(tmp, f'{name}.pem')


def make_server_pem(tmp, ca, serial):
    """A server certificate for localhost signed by `ca`, chain and key in one PEM file (what HAProxy's
    `crt` takes); returns (that file, the certificate in DER)."""
    name = f'server-{serial}'
    with open(os.path.join(tmp, 'server.ext'), 'w', encoding='ascii') as f:
        f.write('subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
                'keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f'{name}.key',
            '-out', f'{name}.csr', '-subj', '/CN=localhost', cwd=tmp)
    openssl('x509', '-req', '-in', f'{name}.csr', '-CA', f'{ca}.pem', '-CAkey', f'{ca}.key', '-set_serial',
            str(serial), '-days', '2', '-extfile', 'server.ext', '-out', f'{name}.crt', cwd=tmp)
    openssl('x509', '-in', f'{name}.crt', '-outform', 'DER', '-out', f'{name}.der', cwd=tmp)
    pem = os.path.join(tmp, f'{name}.pem')
    with open(pem, 'w', encoding='ascii') as out:
        for part in (f'{name}.crt', f'{ca}.pem', f'{name}.key'):
            out.write(read(os.path.join(tmp, part)))
    return pem, read(os.path.join(tmp, f'{name}.der'), 'rb')


def render(shipped, replacements):
    """The shipped configuration with only ports, paths and the log target changed; every line to change
    must be there exactly once, so the test fails when the shipped file drifts from what it checks."""
    text = shipped
    for old, new in replacements:
        assert text.count(old) == 1, f'the shipped configuration has {text.count(old)} × {old!r}, expected 1'
        text = text.replace(old, new)
    return text


def served_certificate(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=5)) as s:
        return s.getpeercert(binary_form=True)


class TlsProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='attendance-tls-')
        os.chmod(cls.tmp, 0o755)
        cls.servers, cls.haproxy, cls.failed = [], None, False
        cls.db = f'tls_{os.getpid()}_{uuid.uuid4().hex[:8]}'
        subprocess.run(['createdb', cls.db], check=True, timeout=60)
        cls.env = dict(os.environ, DATABASE_URL=f'host=127.0.0.1 port={os.environ["PGPORT"]} dbname={cls.db}')
        try:
            cls.set_up()
        except BaseException:
            cls.failed = True
            cls.tearDownClass()
            raise

    @classmethod
    def set_up(cls):
        cls.admin_cli('migrate')
        cls.admin_cli('event', 'create', '--name', 'TLS', '--venue', 'Hall T', '--id', EVENT)
        password_file = os.path.join(cls.tmp, 'admin-password')
        with open(password_file, 'w', encoding='ascii') as f:
            f.write(ADMIN_PASSWORD + '\n')
        cls.admin_cli('create-admin', '--email', ADMIN_EMAIL, '--password-file', password_file)
        cls.keys = {}
        for sid in SCANNERS:
            cls.keys[sid] = os.path.join(cls.tmp, f'{sid}.key')
            api_key = json.loads(cls.admin_cli('scanner', 'create', '--id', sid))['apiKey']
            with open(os.open(cls.keys[sid], os.O_WRONLY | os.O_CREAT, 0o600), 'w', encoding='ascii') as f:
                f.write(api_key + '\n')
            cls.admin_cli('scanner', 'assign', '--id', sid, '--event', EVENT)

        make_ca(cls.tmp, 'ca')
        cls.ca = os.path.join(cls.tmp, 'ca.pem')
        cls.wrong_ca = make_ca(cls.tmp, 'other-ca')
        first_pem, cls.first_der = make_server_pem(cls.tmp, 'ca', 1001)
        cls.pem = os.path.join(cls.tmp, 'attendance.pem')  # what the configuration names; rotated in place
        shutil.copy(first_pem, cls.pem)

        # HAProxy reaches the servers from 127.0.0.1: that is the trusted proxy. Clients below connect from
        # other loopback addresses (127.0.0.2, …) so that they are distinct clients.
        cls.backend = so.Server([BACKEND_BIN, 'serve', '--no-access-log', '--rate-limit', '0', '--trusted-proxy',
                                 '127.0.0.1', '--insecure-fast-password-hashing'], cls.env,
                                os.path.join(cls.tmp, 'backend.log'))
        cls.servers.append(cls.backend)
        cls.admin = so.Server([ADMIN_BIN, 'serve', '--secure-cookies', '--trusted-proxy', '127.0.0.1'], cls.env,
                              os.path.join(cls.tmp, 'admin.log'))
        cls.servers.append(cls.admin)

        cls.http_port, cls.api_port, cls.admin_port = so.free_port(), so.free_port(), so.free_port()
        with open(SHIPPED, encoding='utf-8') as f:
            shipped = f.read()
        cls.cfg = os.path.join(cls.tmp, 'haproxy.cfg')
        with open(cls.cfg, 'w', encoding='utf-8') as f:
            f.write(render(shipped, [
                ('log /dev/log local0', 'log stderr format raw local0'),
                ('bind :80\n', f'bind 127.0.0.1:{cls.http_port}\n'),
                ('bind :443 ', f'bind 127.0.0.1:{cls.api_port} '),
                ('bind :8443 ', f'bind 127.0.0.1:{cls.admin_port} '),
                ('server backend1 127.0.0.1:8080 ', f'server backend1 127.0.0.1:{cls.backend.port} '),
                ('server admin1 127.0.0.1:8081 ', f'server admin1 127.0.0.1:{cls.admin.port} '),
            ]).replace('/etc/haproxy/certs/attendance.pem', cls.pem))
        subprocess.run(['haproxy', '-c', '-f', cls.cfg], check=True, capture_output=True, timeout=30)
        with open(os.path.join(cls.tmp, 'haproxy.log'), 'wb') as err:
            # Master-worker, as Debian's unit runs it (-Ws): SIGUSR2 to the master reloads.
            cls.haproxy = subprocess.Popen(['haproxy', '-W', '-db', '-f', cls.cfg], stdout=subprocess.DEVNULL,
                                           stderr=err)
        cls.api = f'https://localhost:{cls.api_port}'
        so.wait_for('HAProxy to serve the backend over TLS', lambda: cls.https_status(cls.api_port, '/readyz') == 200)
        so.wait_for('HAProxy to serve the admin server over TLS',
                    lambda: cls.https_status(cls.admin_port, '/readyz') == 200)

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.stop()
        if cls.haproxy is not None and cls.haproxy.poll() is None:
            cls.haproxy.terminate()
            try:
                cls.haproxy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cls.haproxy.kill()
                cls.haproxy.wait()
        subprocess.run(['dropdb', '--if-exists', '--force', cls.db], capture_output=True, timeout=60)
        if cls.failed:
            so.note(f'kept for inspection: {cls.tmp}')
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run(self, result=None):
        result = super().run(result)
        if result is not None and (result.failures or result.errors):
            type(self).failed = True
        return result

    @classmethod
    def admin_cli(cls, *args):
        r = subprocess.run([ADMIN_BIN, *args], env=cls.env, capture_output=True, text=True, timeout=120, check=False)
        if r.returncode != 0:
            raise AssertionError(f'attendance-admin {" ".join(args)}: exit {r.returncode}\n{r.stderr}')
        return r.stdout

    @classmethod
    def tls_context(cls, verify_host=True):
        ctx = ssl.create_default_context(cafile=cls.ca)
        ctx.check_hostname = verify_host
        return ctx

    @classmethod
    def https(cls, port, method, path, body=None, headers=None, source=None):
        """One request over a fresh TLS connection (from the loopback address `source`); (status, headers, body)."""
        host = 'localhost' if source is None else '127.0.0.1'
        conn = http.client.HTTPSConnection(host, port, timeout=10, context=cls.tls_context(source is None),
                                           source_address=(source, 0) if source else None)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.headers, r.read()
        finally:
            conn.close()

    @classmethod
    def https_status(cls, port, path):
        try:
            return cls.https(port, 'GET', path)[0]
        except OSError:
            return None

    def write_log(self, scanner, records):
        path = os.path.join(self.tmp, f'{scanner}-{uuid.uuid4().hex[:6]}.jsonl')
        now_ms = int(time.time() * 1000)
        with open(path, 'w', encoding='ascii') as f:
            for i in range(records):
                f.write(json.dumps({'bleUuid': str(uuid.uuid4()), 'checkInTime': now_ms - 3_600_000 + i * 10,
                                    'scannerId': scanner, 'eventId': EVENT}, separators=(',', ':')) + '\n')
        return path

    def sync(self, scanner, log, url=None, ca=None, batch=100, wait=True, retries=8):
        argv = [SYNC_BIN, '--backend', url or self.api, '--api-key-file', self.keys[scanner], '--log', log,
                '--batch-size', str(batch), '--request-timeout', '5', '--retries', str(retries)]
        if ca:
            argv += ['--ca-file', ca]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait:
            return p
        out, err = p.communicate(timeout=120)
        return p.returncode, out, err

    def stored(self, scanner):
        return int(so.psql(os.environ['PGPORT'], self.db,
                           f"SELECT count(*) FROM check_ins WHERE scanner_id = '{scanner}'"))

    def test_sync_uploads_over_https_with_its_ca_file(self):
        log = self.write_log(SCANNERS[0], 500)
        code, out, err = self.sync(SCANNERS[0], log, ca=self.ca)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(so.summary_counts(out).get('inserted'), 500, out)
        self.assertEqual(self.stored(SCANNERS[0]), 500)

    def test_sync_refuses_a_wrong_ca_with_a_clear_error_and_sends_nothing(self):
        before = self.stored(SCANNERS[1])
        log = self.write_log(SCANNERS[1], 50)
        code, out, err = self.sync(SCANNERS[1], log, ca=self.wrong_ca)
        self.assertEqual(code, 2, out + err)  # configuration error (docs/sync.md), not "try again"
        self.assertIn('attendance-sync: error:', err)
        self.assertIn('certificate is not trusted for "localhost"', err)
        self.assertIn('--ca-file', err)
        self.assertEqual(self.stored(SCANNERS[1]), before)

    def test_plain_http_to_the_tls_port_fails_clearly_and_port_80_redirects(self):
        log = self.write_log(SCANNERS[1], 10)
        code, out, err = self.sync(SCANNERS[1], log, url=f'http://localhost:{self.api_port}', retries=2)
        self.assertNotEqual(code, 0, out + err)
        self.assertIn('attendance-sync: error:', err)
        self.assertEqual(code, 4, out + err)  # network: nothing was stored
        self.assertIn('if it expects TLS, use https://', err)
        conn = http.client.HTTPConnection('127.0.0.1', self.http_port, timeout=10)
        conn.request('GET', '/login?next=%2Fevents', headers={'Host': 'attendance.example.org'})
        r = conn.getresponse()
        self.assertEqual(r.status, 301)
        self.assertEqual(r.headers['Location'], 'https://attendance.example.org/login?next=%2Fevents')
        conn.close()

    def test_admin_cookies_are_secure_behind_the_proxy_and_answers_carry_hsts(self):
        status, headers, body = self.https(self.admin_port, 'GET', '/login')
        self.assertEqual(status, 200)
        self.assertIn('max-age=', headers['Strict-Transport-Security'] or '')
        login_cookie = headers['Set-Cookie']
        self.assertRegex(login_cookie, r'^__Host-attendance_login=[^;]+;.*; Secure')
        csrf = re.search(r'name="csrf" value="([^"]+)"', body.decode()).group(1)
        form = urllib.parse.urlencode({'email': ADMIN_EMAIL, 'password': ADMIN_PASSWORD, 'csrf': csrf})
        status, headers, _ = self.https(self.admin_port, 'POST', '/login', body=form, headers={
            'Content-Type': 'application/x-www-form-urlencoded', 'Cookie': login_cookie.split(';')[0]})
        self.assertEqual(status, 303)
        session = [c for c in headers.get_all('Set-Cookie') if c.startswith('__Host-attendance_session=')]
        self.assertEqual(len(session), 1, headers.get_all('Set-Cookie'))
        self.assertIn('; Secure', session[0])
        self.assertIn('; HttpOnly', session[0])
        # The participant side (port 443) too.
        status, headers, _ = self.https(self.api_port, 'GET', '/readyz')
        self.assertIn('max-age=', headers['Strict-Transport-Security'] or '')

    def test_per_address_sign_in_limits_see_the_client_behind_the_trusted_proxy_not_a_forged_header(self):
        def sign_in(n, port, source, forged=None, tls=True):
            body = json.dumps({'email': f'nobody-{source}-{n}@example.org', 'password': 'wrong password!'})
            headers = {'Content-Type': 'application/json'}
            if forged:  # a new address every time: what a client escaping a per-address limit would send
                headers['X-Forwarded-For'] = forged.format(n=n)
            if tls:
                return self.https(port, 'POST', '/api/sessions', body=body, headers=headers, source=source)[0]
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10, source_address=(source, 0))
            try:
                conn.request('POST', '/api/sessions', body=body, headers=headers)
                return conn.getresponse().status
            finally:
                conn.close()

        def failures_until_limited(**kw):
            for n in range(1, 60):
                status = sign_in(n, **kw)
                if status == 429:
                    return n - 1
                self.assertEqual(status, 401)
            self.fail('never limited')

        # Client A through the proxy, forging a new address every time: limited all the same.
        allowed = failures_until_limited(port=self.api_port, source='127.0.0.2', forged='198.51.100.{n}')
        self.assertGreater(allowed, 0)
        self.assertEqual(sign_in(99, self.api_port, '127.0.0.2', forged='198.51.100.99'), 429)
        # Client B through the same proxy has its own limit.
        self.assertEqual(sign_in(1, self.api_port, '127.0.0.3'), 401)
        # A direct client (not a trusted proxy) forging X-Forwarded-For: the header is ignored.
        limited_after = None
        for n in range(1, 60):
            status = sign_in(n, self.backend.port, '127.0.0.4', forged='203.0.113.{n}', tls=False)
            if status == 429:
                limited_after = n - 1
                break
            self.assertEqual(status, 401)
        self.assertEqual(limited_after, allowed, 'a forged X-Forwarded-For changed the direct client\'s limit')

    def test_a_malformed_trusted_proxy_is_refused_at_start_with_the_reason(self):
        for binary in (BACKEND_BIN, ADMIN_BIN):
            r = subprocess.run([binary, 'serve', '--trusted-proxy', '10.0.0.1/8'], env=self.env, capture_output=True,
                               text=True, timeout=30, check=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn('--trusted-proxy', r.stderr)
            self.assertIn("'10.0.0.1/8' has bits set past the /8 prefix", r.stderr)

    def test_zz_certificate_rotation_by_reload_keeps_an_in_flight_sync(self):
        self.assertEqual(served_certificate(self.api_port), self.first_der)
        scanner = SCANNERS[2]
        total = 20_000
        log = self.write_log(scanner, total)
        second_pem, second_der = make_server_pem(self.tmp, 'ca', 1002)
        p = self.sync(scanner, log, ca=self.ca, batch=50, wait=False)
        so.wait_for('the sync to be under way', lambda: self.stored(scanner) >= 1000, within=60, every=0.05)
        os.replace(second_pem, self.pem)
        stored_at_reload = self.stored(scanner)
        self.haproxy.send_signal(signal.SIGUSR2)
        so.note(f'certificate replaced and HAProxy reloaded with {stored_at_reload} of {total} records stored')
        so.wait_for('HAProxy to serve the new certificate',
                    lambda: served_certificate(self.api_port) == second_der, within=30)
        out, err = p.communicate(timeout=120)
        self.assertLess(stored_at_reload, total, 'the sync had finished before the reload: nothing was tested')
        self.assertEqual(p.returncode, 0, out + err)
        self.assertEqual(self.stored(scanner), total)
        counts = so.summary_counts(out)
        self.assertEqual(counts.get('inserted', 0) + counts.get('duplicates', 0), total, out)
        self.assertEqual(served_certificate(self.admin_port), second_der)
        self.assertIsNone(self.haproxy.poll(), 'the HAProxy master exited on reload')


if __name__ == '__main__':
    BACKEND_BIN, ADMIN_BIN, SYNC_BIN = (os.path.abspath(p) for p in sys.argv[1:4])
    del sys.argv[1:4]
    unittest.main(verbosity=2)
