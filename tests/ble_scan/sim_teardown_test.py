#!/usr/bin/python3
"""bluez-sim never leaves a bus or mock behind: not on SIGTERM, not even on SIGKILL.

usage: sim_teardown_test.py BLUEZ_SIM"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time


def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def processes_with(text):
    ps = subprocess.run(['ps', '-eo', 'args'], capture_output=True, text=True, check=True).stdout
    return [l for l in ps.splitlines() if text in l]


def run_once(sim, sig):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    p = subprocess.Popen([sim, 'serve'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    line = p.stdout.readline().decode()
    m = re.match(r'DBUS_SYSTEM_BUS_ADDRESS=unix:path=(/\S*/bluez-sim-[^/,]+)/', line)
    if not m:
        p.kill()
        fail(f'unexpected first line {line!r}')
    tmp = m.group(1)
    if len(processes_with(tmp)) != 2:
        fail(f'expected a dbus-daemon and a mock, found {processes_with(tmp)}')
    p.send_signal(sig)
    p.wait(timeout=20)
    deadline = time.monotonic() + 10
    while processes_with(tmp):
        if time.monotonic() > deadline:
            fail(f'after signal {sig}: stray processes {processes_with(tmp)}')
        time.sleep(0.05)
    if sig == signal.SIGTERM and os.path.exists(tmp):
        fail(f'temporary directory {tmp} left behind after SIGTERM')
    shutil.rmtree(tmp, ignore_errors=True)  # SIGKILL cannot clean up its directory
    print(f'ok: signal {sig}: bus and mock gone')


def main():
    for sig in (signal.SIGTERM, signal.SIGKILL):
        run_once(sys.argv[1], sig)


if __name__ == '__main__':
    main()
