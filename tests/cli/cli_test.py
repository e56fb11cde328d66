#!/usr/bin/python3
"""The command lines of attendance-scanner, -sync, -backend and -admin.

    cli_test.py BUILD_DIR SOURCE_DIR PROJECT_VERSION

Every tool: --version prints "<tool> <version> (<git revision>)", --help exits 0
and shows the exit codes, a bad command line gives "<tool>: error: ..." and
"run '<tool> --help' for usage" on stderr with exit 2. Then the causes a user
must be told: no system D-Bus (scanner), an https:// URL to a server speaking
plain HTTP (sync), a role PostgreSQL refuses (backend, admin; needs the PG*
variables of pg_virtualenv). Everything on loopback, each run bounded by a timeout.
"""
import getpass
import http.server
import os
import re
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import unittest

BUILD = sys.argv[1] if len(sys.argv) > 1 else 'build/ci'
SOURCE = sys.argv[2] if len(sys.argv) > 2 else '.'
VERSION = sys.argv[3] if len(sys.argv) > 3 else None
del sys.argv[1:]

TOOLS = {
    'attendance-scanner': f'{BUILD}/apps/scanner/attendance-scanner',
    'attendance-sync': f'{BUILD}/apps/sync/attendance-sync',
    'attendance-backend': f'{BUILD}/apps/backend/attendance-backend',
    'attendance-admin': f'{BUILD}/apps/admin/attendance-admin',
}


def run(tool, *args, env=None, timeout=30):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([TOOLS[tool], *args], capture_output=True, text=True, env=full_env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def error_lines(stderr, tool):
    """Our error lines, apart from the JSON log lines a service also writes to stderr."""
    return [line for line in stderr.splitlines() if line.startswith(f'{tool}: error: ')]


def head_revision():
    r = subprocess.run(['git', '-C', SOURCE, 'rev-parse', 'HEAD'], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


class Version(unittest.TestCase):
    def test_every_tool_prints_version_and_the_revision_it_was_built_from(self):
        head = head_revision()
        revisions = set()
        for tool in TOOLS:
            r = run(tool, '--version')
            self.assertEqual(r.returncode, 0, f'{tool}: {r.stderr}')
            self.assertEqual(r.stderr, '', tool)
            m = re.fullmatch(rf'{re.escape(tool)} (\S+) \((\S+)\)\n', r.stdout)
            self.assertTrue(m, f'{tool} --version printed {r.stdout!r}')
            if VERSION:
                self.assertEqual(m.group(1), VERSION, tool)
            revisions.add(m.group(2))
        self.assertEqual(len(revisions), 1, f'the four tools report different revisions: {revisions}')
        revision = revisions.pop()
        if head is None:
            self.assertEqual(revision, 'unknown')
            return
        # `git describe --always --dirty`: abbrev, or tag-N-gabbrev, maybe -dirty.
        abbrev = re.sub(r'-dirty$', '', revision)
        abbrev = abbrev.rsplit('-g', 1)[-1]
        self.assertRegex(abbrev, r'^[0-9a-f]{7,40}$', revision)
        self.assertTrue(head.startswith(abbrev),
                        f'--version says {revision}, the checkout is at {head[:12]} (rebuild after committing?)')

    def test_version_after_a_subcommand_answers_the_same(self):
        for tool, args in (('attendance-backend', ['serve']), ('attendance-backend', ['migrate']),
                           ('attendance-sync', ['roster']), ('attendance-admin', ['event', 'list']),
                           ('attendance-admin', ['serve'])):
            r = run(tool, *args, '--version')
            self.assertEqual(r.returncode, 0, f'{tool} {args}: {r.stderr}')
            self.assertEqual(r.stdout, run(tool, '--version').stdout, f'{tool} {args}')


class Help(unittest.TestCase):
    def test_help_exits_0_and_lists_the_exit_codes(self):
        for tool in TOOLS:
            r = run(tool, '--help')
            self.assertEqual(r.returncode, 0, f'{tool}: {r.stderr}')
            self.assertIn('--version', r.stdout, tool)
            self.assertIn('Exit codes:', r.stdout, tool)
            self.assertRegex(r.stdout, r'\n  0   ', tool)
            self.assertRegex(r.stdout, r'\n  2   ', tool)
            self.assertIn(f'{tool}: error: <message>', r.stdout, tool)


class UsageErrors(unittest.TestCase):
    def check_usage_error(self, tool, args, meaning):
        r = run(tool, *args)
        self.assertEqual(r.returncode, 2, f'{tool} {args}: {r.stdout}{r.stderr}')
        self.assertEqual(r.stdout, '', f'{tool} {args}')
        self.assertTrue(r.stderr.startswith(f'{tool}: error: '), f'{tool} {args}: {r.stderr!r}')
        self.assertIn(meaning, r.stderr.splitlines()[0], f'{tool} {args}')
        self.assertEqual(r.stderr.splitlines()[-1], f"run '{tool} --help' for usage", f'{tool} {args}')

    def test_an_unknown_option_is_exit_2_in_the_common_format(self):
        for tool in TOOLS:
            self.check_usage_error(tool, ['--no-such-option'], '--no-such-option')

    def test_a_missing_subcommand_is_exit_2_in_the_common_format(self):
        for tool in ('attendance-backend', 'attendance-admin'):
            self.check_usage_error(tool, [], 'subcommand is required')

    def test_a_bad_value_is_exit_2_in_the_common_format(self):
        self.check_usage_error('attendance-backend', ['serve', '--threads', '0'], '--threads')
        self.check_usage_error('attendance-admin', ['report', '--event', 'e', '--format', 'xml'], '--format')
        self.check_usage_error('attendance-sync', ['--batch-size', 'many'], '--batch-size')
        self.check_usage_error('attendance-scanner', ['--config'], '--config')


class PlainHttpHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{}')

    def log_message(self, *args):
        pass


class Causes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def test_scanner_without_a_system_dbus_says_so(self):
        d = self.dir.name
        r = run('attendance-scanner', '--event', 'ev1', '--scanner-id', 'S1', '--log', f'{d}/log.jsonl',
                '--accept-any-id', env={'DBUS_SYSTEM_BUS_ADDRESS': f'unix:path={d}/no-bus-here'}, timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = error_lines(r.stderr, 'attendance-scanner')
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith('attendance-scanner: error: no system D-Bus (is bluetoothd running?)'),
                        lines[0])

    def test_sync_to_https_on_a_plain_http_server_names_it(self):
        d = self.dir.name
        with open(f'{d}/key', 'w') as f:
            f.write('sk_test_0123456789abcdef\n')
        server = socketserver.TCPServer(('127.0.0.1', 0), PlainHttpHandler)
        self.addCleanup(server.server_close)
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(server.shutdown)
        port = server.server_address[1]
        r = run('attendance-sync', '--retries', '1', '--connect-timeout', '5', 'roster', '--event', 'ev1',
                '--backend', f'https://127.0.0.1:{port}', '--api-key-file', f'{d}/key', '--out', f'{d}/roster.json',
                timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = error_lines(r.stderr, 'attendance-sync')
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('the backend speaks plain HTTP; use http:// or put TLS in front', lines[0])
        self.assertNotIn('certificate', r.stderr)
        self.assertNotIn('--ca-file', r.stderr)
        self.assertFalse(os.path.exists(f'{d}/roster.json'))


@unittest.skipUnless(os.environ.get('PGPORT'), 'needs the PG* variables of pg_virtualenv (scripts/test)')
class DatabaseRefusals(unittest.TestCase):
    """PostgreSQL's refusal, in libpq's words, on the one error line; no password echoed."""

    SECRET = 'pw-d0-not-echo-7731'

    def db_commands(self):
        return [('attendance-backend', ['migrate'], 4),
                ('attendance-backend', ['serve', '--listen', '127.0.0.1:0'], 4),
                ('attendance-admin', ['event', 'list'], 6),
                ('attendance-admin', ['migrate'], 6),
                ('attendance-admin', ['serve', '--listen', '127.0.0.1:0'], 6)]

    def check(self, url, reason):
        for tool, args, code in self.db_commands():
            r = run(tool, *args, env={'DATABASE_URL': url}, timeout=30)
            self.assertEqual(r.returncode, code, f'{tool} {args}: {r.stderr}')
            lines = error_lines(r.stderr, tool)
            self.assertEqual(len(lines), 1, f'{tool} {args}: {r.stderr}')
            self.assertIn(f'database unavailable: {reason}', lines[0], f'{tool} {args}')
            self.assertNotIn(self.SECRET, r.stderr + r.stdout, f'{tool} {args}')

    def test_a_role_that_does_not_exist(self):
        # Peer authentication over the server's socket lets the OS user through, so the
        # server's answer is about the role itself (as for root on a fresh install).
        socket_dir = '/var/run/postgresql'
        user = getpass.getuser()
        if not os.path.exists(f'{socket_dir}/.s.PGSQL.{os.environ["PGPORT"]}'):
            self.skipTest(f'no PostgreSQL socket in {socket_dir}')
        probe = subprocess.run(['psql', '-tAc', f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == '1':
            self.skipTest(f'role {user} exists in this cluster')
        url = f'postgresql://{user}@/postgres?host={socket_dir}&port={os.environ["PGPORT"]}'
        self.check(url, f'role "{user}" does not exist')

    def test_a_refused_password_is_named_and_not_echoed(self):
        host = os.environ.get('PGHOST', 'localhost')
        if host.startswith('/'):
            host = 'localhost'
        url = f'postgresql://no_such_role:{self.SECRET}@{host}:{os.environ["PGPORT"]}/postgres'
        self.check(url, 'password authentication failed for user "no_such_role"')


@unittest.skipUnless(os.environ.get('PGPORT'), 'needs the PG* variables of pg_virtualenv (scripts/test)')
class RealBackendWithoutTls(unittest.TestCase):
    """The same mistake against attendance-backend itself, which serves plain HTTP."""

    def test_sync_to_https_on_the_backend_names_plain_http(self):
        dbname = f'cli_test_{os.getpid()}'
        subprocess.run(['createdb', dbname], check=True, timeout=30)
        self.addCleanup(subprocess.run, ['dropdb', '--if-exists', dbname], timeout=30)
        env = {'PGDATABASE': dbname}
        migrated = run('attendance-backend', 'migrate', env=env)
        self.assertEqual(migrated.returncode, 0, migrated.stderr)
        full_env = dict(os.environ, **env)
        server = subprocess.Popen([TOOLS['attendance-backend'], 'serve', '--listen', '127.0.0.1:0', '--no-access-log'],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=full_env)
        self.addCleanup(server.stdout.close)
        self.addCleanup(server.wait, 15)
        self.addCleanup(server.terminate)
        line = server.stdout.readline()
        m = re.search(r'"listening":"127\.0\.0\.1:(\d+)"', line)
        self.assertTrue(m, f'attendance-backend serve printed {line!r}')
        with tempfile.TemporaryDirectory() as d:
            with open(f'{d}/key', 'w') as f:
                f.write('sk_test_0123456789abcdef\n')
            r = run('attendance-sync', '--retries', '1', 'roster', '--event', 'ev1', '--backend',
                    f'https://127.0.0.1:{m.group(1)}', '--api-key-file', f'{d}/key', '--out', f'{d}/roster.json')
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = error_lines(r.stderr, 'attendance-sync')
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn('the backend speaks plain HTTP; use http:// or put TLS in front', lines[0])
        self.assertNotIn('certificate', r.stderr)


@unittest.skipUnless(os.environ.get('PGPORT'), 'needs the PG* variables of pg_virtualenv (scripts/test)')
class SystemdReadiness(unittest.TestCase):
    """Both servers tell systemd (Type=notify units) READY=1 once they listen, as the scanner does."""

    def test_serve_notifies_ready_once_it_listens(self):
        dbname = f'cli_notify_{os.getpid()}'
        subprocess.run(['createdb', dbname], check=True, timeout=30)
        self.addCleanup(subprocess.run, ['dropdb', '--if-exists', dbname], timeout=30)
        env = dict(os.environ, PGDATABASE=dbname)
        migrated = run('attendance-backend', 'migrate', env={'PGDATABASE': dbname})
        self.assertEqual(migrated.returncode, 0, migrated.stderr)
        for tool, pattern in (('attendance-backend', r'"listening":"127\.0\.0\.1:(\d+)"'),
                              ('attendance-admin', r'listening http://127\.0\.0\.1:(\d+)/')):
            with self.subTest(tool=tool), tempfile.TemporaryDirectory() as d:
                notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self.addCleanup(notify.close)
                notify.bind(f'{d}/notify')
                notify.settimeout(20)
                server = subprocess.Popen([TOOLS[tool], 'serve', '--listen', '127.0.0.1:0'], stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True,
                                          env=dict(env, NOTIFY_SOCKET=f'{d}/notify'))
                try:
                    message = notify.recv(4096).decode()
                    self.assertIn('READY=1', message.split('\n'))
                    # Ready means listening: the port is printed and accepts a connection.
                    m = re.search(pattern, server.stdout.readline())
                    self.assertTrue(m, f'{tool} serve did not print its port')
                    socket.create_connection(('127.0.0.1', int(m.group(1))), timeout=5).close()
                    self.assertIsNone(server.poll())
                finally:
                    server.terminate()
                    self.assertEqual(server.wait(30), 0)
                    server.stdout.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
