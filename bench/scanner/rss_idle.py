#!/usr/bin/python3
"""Resident memory of the real attendance-scanner after N distinct devices, and its
CPU use while no advertisements arrive.

usage: rss_idle.py <attendance-scanner> <source-dir> [--devices 10000] [--idle 10]
Prints one JSON object; docs/benchmarks-scanner.md records the command and result."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid


def status(pid):
    out = {}
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'VmHWM'):
                out[k] = int(v.split()[0])  # kB
    return out


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat', encoding='ascii') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('scanner')
    ap.add_argument('source_dir')
    ap.add_argument('--devices', type=int, default=10000)
    ap.add_argument('--idle', type=float, default=10.0)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.source_dir, 'tools', 'bluez-sim'))
    from bluez_sim import Payload, Simulator  # pylint: disable=import-outside-toplevel

    with tempfile.TemporaryDirectory() as tmp, Simulator() as sim:
        sim.add_adapter('hci0')
        log = os.path.join(tmp, 'attendance_log.jsonl')
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=sim.address)
        proc = subprocess.Popen([a.scanner, '--event', 'bench', '--scanner-id', 'bench', '--log', log,
                                 '--accept-any-id', '--status-interval', '60s'], env=env, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while not sim.discovering('hci0'):
                if time.monotonic() > deadline:
                    raise SystemExit('discovery did not start')
                time.sleep(0.05)
            start_rss = status(proc.pid)
            t0 = time.monotonic()
            for n in range(a.devices):
                ble = str(uuid.UUID(int=(0xBE << 120) | n))
                fmt = ('ibeacon', 'eddystone', 'service-uuid', 'service-data')[n % 4]
                sim.advertise('hci0', f'7C:00:00:{n >> 16 & 255:02X}:{n >> 8 & 255:02X}:{n & 255:02X}',
                              Payload.for_participant(fmt, ble), rssi=-60, via='added')
            deadline = time.monotonic() + 60
            while True:
                with open(log, 'rb') as f:
                    lines = f.read().count(b'\n')
                if lines >= a.devices or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            feed_s = time.monotonic() - t0
            loaded = status(proc.pid)
            c0 = cpu_seconds(proc.pid)
            time.sleep(a.idle)
            c1 = cpu_seconds(proc.pid)
            idle = status(proc.pid)
            print(json.dumps({
                'devices': a.devices, 'lines': lines, 'feedSeconds': round(feed_s, 1),
                'rssKiBAtStart': start_rss['VmRSS'], 'rssKiBAfter': loaded['VmRSS'],
                'hwmKiB': idle['VmHWM'], 'idleCpuPercent': round(100 * (c1 - c0) / a.idle, 3),
            }))
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == '__main__':
    main()
