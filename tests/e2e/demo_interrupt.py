#!/usr/bin/python3
"""Ctrl-C on the demo, as a terminal sends it (SIGINT to the whole foreground process group):
the demo ends with exit code 130, no process it started survives, pg_virtualenv prints no
PostgreSQL log (it does when its command exits non-zero) and no helper prints a Python traceback. Twice: during the event (scanner, simulator
and a participant's attendance-beacon running) and while the servers wait for Ctrl-C at the end.

  demo_interrupt.py BUILD_DIR   (from the source directory; starts its own pg_virtualenv)"""

import os
import signal
import subprocess
import sys
import time

DEADLINE_S = 120


def session_members(sid):
    members = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/stat', encoding='utf-8') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != 'Z':  # fields[3]: session id
            members.append(int(pid))
    return members


def interrupt_at(build, marker, args):
    # The demo's own cluster: a fresh pg_virtualenv, not the one ctest may run in.
    env = {k: v for k, v in os.environ.items() if not k.startswith('PG')}
    demo = subprocess.Popen(['scripts/lib/demo-run', build, '--participants', '5', *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    deadline = time.monotonic() + DEADLINE_S
    for line in demo.stdout:
        out.append(line)
        if marker in line or time.monotonic() > deadline:
            break
    reached = any(marker in l for l in out)
    os.killpg(demo.pid, signal.SIGINT)
    try:
        rest, _ = demo.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        rest, _ = demo.communicate()
    out.append(rest)
    text = ''.join(out)
    print(text)
    survivors = []
    for _ in range(50):  # processes that got SIGINT may still be exiting
        survivors = session_members(demo.pid)
        if not survivors:
            break
        time.sleep(0.1)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    checks = [
        (reached, f'the demo reached "{marker}"'),
        (demo.returncode == 130, f'exit code 130 (got {demo.returncode})'),
        (not survivors, f'no process of the demo survives ({survivors})'),
        ('last 100 lines' not in text and 'LOG:' not in text, 'no PostgreSQL log dump in the output'),
        ('Traceback' not in text, 'no Python traceback in the output'),
    ]
    for ok, what in checks:
        print(f"  {'ok ' if ok else 'BAD'} Ctrl-C at \"{marker}\": {what}")
    return [what for ok, what in checks if not ok]


def main():
    build = sys.argv[1]
    failures = interrupt_at(build, 'attendance-beacon signs in', ['--no-wait'])
    failures += interrupt_at(build, 'Servers stay up until Ctrl-C', [])
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
