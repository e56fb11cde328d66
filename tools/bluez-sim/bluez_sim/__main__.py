"""Command line: see `bluez-sim --help`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid

from . import control, venue
from .sim import FORMATS, SimError, Simulator

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_SIM_FAILED = 3
EXIT_COMMAND_FAILED = 4


class _Stop(BaseException):
    """SIGTERM/SIGINT. Not an Exception: the `except Exception` that rides out D-Bus errors (waiting for
    discovery, an advertisement the mock refused) must not swallow a stop that lands inside it."""


def _raise_stop(_signo, _frame):
    raise _Stop()


def _adapters(text: str):
    names = [n.strip() for n in text.split(',') if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError('at least one adapter name')
    return names


def _interval(text):
    if text == 'mix':
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is neither seconds nor "mix"') from None


def _formats(text: str):
    names = [n.strip() for n in text.split(',') if n.strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f'unknown format(s) {",".join(bad)}; use {",".join(FORMATS)}')
    return names


def cmd_serve(args) -> int:
    with Simulator(address=args.address) as sim:
        if sim.owns_bus:
            for name in args.adapter:
                sim.add_adapter(name)
        # The air between adapters: on by default, under --control only when asked (tests that
        # drive every advertisement by hand stay exactly as they were).
        interval = args.relay_interval
        if interval is None and not args.control:
            interval = 1.0
        if interval:
            control.start_relay(sim, interval)
        try:
            if args.control:
                return control.serve(sim)
            print(f'DBUS_SYSTEM_BUS_ADDRESS={sim.address}', flush=True)
            try:
                while True:
                    time.sleep(3600)
            except _Stop:
                return EXIT_OK
        finally:
            control.stop_relay(sim)


def _wait_discovering(sim: Simulator, adapter: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sim.discovering(adapter):
                return True
        except Exception:  # pylint: disable=broad-except
            pass
        time.sleep(0.05)
    return False


def cmd_venue(args) -> int:
    ids = []
    if args.ble_uuids:
        try:
            with open(args.ble_uuids, encoding='utf-8') as f:
                ids = [line.strip() for line in f if line.strip()]
            for text in ids:
                uuid.UUID(text)
        except (OSError, ValueError) as e:
            print(f'bluez-sim: --ble-uuids {args.ble_uuids}: {e}', file=sys.stderr)
            return EXIT_USAGE
        if len(ids) > args.phones:
            print(f'bluez-sim: --ble-uuids has {len(ids)} ids but --phones is {args.phones}', file=sys.stderr)
            return EXIT_USAGE
    events = venue.plan(args.seed, args.phones, args.duration, noise_ratio=args.noise_ratio,
                        formats=args.formats, rssi_min=args.rssi_min, weak_ratio=args.weak_ratio, ids=ids,
                        interval=args.adv_interval, miss_rate=args.miss_rate, passers=args.passers,
                        background_iphones=args.background_iphones)
    child = None
    with Simulator(address=args.address) as sim:
        adapter = args.adapter[0]
        if sim.owns_bus:
            for name in args.adapter:
                sim.add_adapter(name)
        print(f'DBUS_SYSTEM_BUS_ADDRESS={sim.address}', file=sys.stderr, flush=True)
        try:
            if args.command:
                env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=sim.address)
                child = subprocess.Popen(args.command, env=env)
                if not _wait_discovering(sim, adapter, args.settle):
                    print(f'bluez-sim: discovery did not start on {adapter} within {args.settle}s',
                          file=sys.stderr)
                    return EXIT_COMMAND_FAILED
            elif args.wait_discovering:
                if not _wait_discovering(sim, adapter, args.settle):
                    print(f'bluez-sim: discovery did not start on {adapter} within {args.settle}s',
                          file=sys.stderr)
                    return EXIT_COMMAND_FAILED
            progress = None
            if args.verbose:
                def progress(i, n):
                    print(f'bluez-sim: {i}/{n} advertisements', file=sys.stderr, flush=True)
            truth = venue.run(sim, adapter, events, args.truth, seed=args.seed, rssi_min=args.rssi_min,
                              on_progress=progress)
            print(f'bluez-sim: venue done: {len(truth["participants"])} participants, '
                  f'{sum(len(p["advertisements"]) for p in truth["participants"])} participant advertisements, '
                  f'{truth["noiseAdvertisements"]} noise advertisements'
                  + (f', truth in {args.truth}' if args.truth else ''), file=sys.stderr, flush=True)
            if child is not None:
                time.sleep(args.linger)
                child.send_signal(signal.SIGTERM)
                try:
                    rc = child.wait(timeout=args.stop_timeout)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                    print('bluez-sim: command did not stop after SIGTERM; killed', file=sys.stderr)
                    return EXIT_COMMAND_FAILED
                child = None
                if rc != 0:
                    print(f'bluez-sim: command exited with {rc}', file=sys.stderr)
                    return EXIT_COMMAND_FAILED
            return EXIT_OK
        finally:
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog='bluez-sim', description=__doc__ or 'BlueZ simulator')
    p.add_argument('--address', help='use this bus (which already runs the bluez5 mock) instead of starting one')
    p.add_argument('--adapter', type=_adapters, default=['hci0'],
                   help='adapter name(s) to create, comma-separated (default hci0); venue uses the first')
    sub = p.add_subparsers(dest='mode', required=True)

    s = sub.add_parser('serve', help='start a private bus + mock, print DBUS_SYSTEM_BUS_ADDRESS, run until signalled')
    s.add_argument('--control', action='store_true', help='read JSON commands on stdin, answer on stdout')
    s.add_argument('--relay-interval', type=float, metavar='SECONDS',
                   help='carry what each adapter advertises (LEAdvertisingManager1) into the other adapters\' '
                        'discovery, one packet per SECONDS (default 1; 0 = off; under --control off unless given)')

    v = sub.add_parser('venue', help='simulate a venue of arriving phones; optionally run a command against it')
    v.add_argument('--phones', type=int, default=300)
    v.add_argument('--duration', type=float, default=20.0, help='seconds over which phones arrive')
    v.add_argument('--seed', type=int, default=1)
    v.add_argument('--noise-ratio', type=float, default=0.25)
    v.add_argument('--weak-ratio', type=float, default=0.05, help='share of phones also seen below the RSSI floor')
    v.add_argument('--rssi-min', type=int, default=-90)
    v.add_argument('--adv-interval', type=_interval, default=1.0,
                   help='seconds between one phone\'s advertisements while it stays (default 1: Android low-power, '
                        'iOS foreground at its slowest), or "mix": each phone like a real one (Android 100 ms / '
                        '250 ms / 1 s, iOS foreground 100 ms-1 s)')
    v.add_argument('--miss-rate', type=float, default=0.0, help='share of packets the scanner misses (default 0)')
    v.add_argument('--passers', type=int, default=0, help='phones with the app passing by, under 1 s, weak (default 0)')
    v.add_argument('--background-iphones', type=int, default=0,
                   help='iPhones with the app in the background: overflow area only (default 0)')
    v.add_argument('--formats', type=_formats, default=list(FORMATS))
    v.add_argument('--truth', help='write the ground truth JSON here')
    v.add_argument('--ble-uuids', help='file with one bleUuid per line: the first phones broadcast these')
    v.add_argument('--settle', type=float, default=15.0, help='seconds to wait for the scanner to start discovery')
    v.add_argument('--wait-discovering', action='store_true', help='without a command: wait for Discovering first')
    v.add_argument('--linger', type=float, default=1.0, help='seconds between the last advertisement and SIGTERM')
    v.add_argument('--stop-timeout', type=float, default=15.0)
    v.add_argument('-v', '--verbose', action='store_true')
    v.add_argument('command', nargs=argparse.REMAINDER, help='-- COMMAND ARGS... run with DBUS_SYSTEM_BUS_ADDRESS set')

    args = p.parse_args(argv)
    if getattr(args, 'command', None) and args.command[0] == '--':
        args.command = args.command[1:]
    if args.mode == 'serve' and args.relay_interval is not None and args.relay_interval < 0:
        p.error('--relay-interval must be >= 0 seconds')
    if args.mode == 'venue' and (args.phones < 0 or args.phones > 100000 or args.duration <= 0):
        p.error('--phones must be 0..100000 and --duration > 0')
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        if args.mode == 'serve':
            return cmd_serve(args)
        return cmd_venue(args)
    except _Stop:
        return EXIT_OK
    except (SimError, OSError) as e:
        print(f'bluez-sim: {e}', file=sys.stderr)
        return EXIT_SIM_FAILED


if __name__ == '__main__':
    sys.exit(main())
