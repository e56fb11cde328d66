"""The air between the simulator's adapters: what one adapter advertises (its
LEAdvertisingManager1 registrations, bluez5_adv.py) is heard by every other adapter that is
discovering, as a device with its own random address, a realistic interval and RSSI.

Runs in a thread of the simulator process on a bus connection of its own. Each registration is
one broadcaster: a new random static address per registration (a phone draws a new one when it
restarts advertising with a new id), one packet per interval ± 10 % (BLE's advDelay and a
phone's scheduling), and per receiving adapter a base RSSI in [-75, -55] dBm with ± 3 dB of
fading per packet.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Dict, Optional, Tuple

import dbus

from .sim import SIG_BASE_SUFFIX, BusClient, Payload

# How often the relay looks at the registrations and the adapters' Discovering.
_TICK = 0.02


def _full_uuid(text: str) -> str:
    text = text.lower()
    if len(text) == 4:
        return '0000' + text + SIG_BASE_SUFFIX
    if len(text) == 8:
        return text + SIG_BASE_SUFFIX
    return text


def payload_of(registration: dict) -> Payload:
    """The Device1 properties a scanner's BlueZ reports for this advertisement."""
    return Payload(manufacturer={int(k): bytes.fromhex(v) for k, v in registration['manufacturerData'].items()},
                   service_data={_full_uuid(k): bytes.fromhex(v) for k, v in registration['serviceData'].items()},
                   uuids=[_full_uuid(u) for u in registration['serviceUuids']])


class Relay:
    """Start with start(), stop with stop(). `packets` counts what was delivered."""

    def __init__(self, address: str, interval: float, seed: int = 1):
        if interval <= 0:
            raise ValueError('the relay interval must be > 0 seconds')
        self.address = address
        self.interval = interval
        self.packets = 0
        self.errors = 0
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._due: Dict[int, float] = {}
        self._addresses: Dict[int, str] = {}
        self._rssi: Dict[Tuple[int, str], int] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name='bluez-sim-relay', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _address(self, serial: int) -> str:
        if serial not in self._addresses:
            raw = [self._rng.randrange(256) for _ in range(6)]
            raw[0] = 0xC0 | (raw[0] & 0x3F)  # random static: the two top bits set
            self._addresses[serial] = ':'.join(f'{b:02X}' for b in raw)
        return self._addresses[serial]

    def _run(self) -> None:
        conn = None
        try:
            while not self._stop.is_set():
                try:
                    if conn is None:
                        conn = dbus.bus.BusConnection(self.address)
                    self._tick(BusClient(conn))
                except dbus.exceptions.DBusException:
                    # bluetoothd restarting (no org.bluez), an adapter just removed: try again.
                    self.errors += 1
                self._stop.wait(_TICK)
        except Exception:  # pylint: disable=broad-except
            self.errors += 1
        finally:
            if conn is not None:
                conn.close()

    def _tick(self, bus: BusClient) -> None:
        registrations = bus.advertisements()
        now = time.monotonic()
        live = {r['serial'] for r in registrations}
        for serial in list(self._due):
            if serial not in live:
                del self._due[serial]
        adapters = None
        for reg in registrations:
            serial = reg['serial']
            due = self._due.setdefault(serial, now + self._rng.uniform(0, self.interval))
            if now < due:
                continue
            self._due[serial] = max(due + self.interval * self._rng.uniform(0.9, 1.1), now)
            if adapters is None:
                adapters = [str(p).rsplit('/', 1)[-1] for p, ifaces in bus.managed_objects().items()
                            if 'org.bluez.Adapter1' in ifaces]
            payload = payload_of(reg)
            for adapter in adapters:
                if adapter == reg['adapter'] or not bus.discovering(adapter):
                    continue
                base = self._rssi.setdefault((serial, adapter), self._rng.randint(-75, -55))
                rssi = max(-100, min(-30, base + self._rng.randint(-3, 3)))
                bus.advertise(adapter, self._address(serial), payload, rssi=rssi)
                self.packets += 1
