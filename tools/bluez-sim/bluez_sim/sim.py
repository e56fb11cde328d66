"""A private D-Bus "system bus" with python-dbusmock's bluez5 template, and
simulated phones on it.

Everything runs in a fresh temporary directory (no fixed paths or ports). The
bus daemon and the mock are children of this process; they are killed when the
Simulator is closed, when this process exits, and (via PR_SET_PDEATHSIG) even
when this process is killed with SIGKILL.

Quirks of python-dbusmock 0.28.7 handled here (see docs/ble.md):
- AddDevice sends ManufacturerData/ServiceData with wrong types (aa{qv}/aa{sv});
  advertisement data is therefore set with org.freedesktop.DBus.Properties.Set
  on org.bluez.Device1, which emits a correctly typed PropertiesChanged.
- StartDiscovery fails before SetDiscoveryFilter (KeyError: 'DiscoveryFilter').
- StartDiscovery ignores Powered; power_off() therefore also drops Discovering,
  as real BlueZ does.
- A "bluetoothd restart" kills the mock process and starts a new one: the bus
  emits a real NameOwnerChanged, and all adapters/devices are gone until re-added.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import dbus

PYTHON = '/usr/bin/python3'
# The bluez5 template plus LEAdvertisingManager1 on every adapter (bluez5_adv.py).
TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bluez5_adv.py')
BLUEZ = 'org.bluez'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
MOCK_IFACE = 'org.bluez.Mock'
DBUSMOCK_IFACE = 'org.freedesktop.DBus.Mock'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'

APPLE = 0x004C
EDDYSTONE_SERVICE = '0000feaa-0000-1000-8000-00805f9b34fb'
# 16-bit 0xFFF9 on the SIG base: service data under it fits a legacy advertisement (ADR 0028).
DEFAULT_ATTENDANCE_SERVICE = '0000fff9-0000-1000-8000-00805f9b34fb'
SIG_BASE_SUFFIX = '-0000-1000-8000-00805f9b34fb'

FORMATS = ('ibeacon', 'eddystone', 'service-uuid', 'service-data')
NOISE_KINDS = ('sig-uuids', 'apple-overflow', 'altbeacon', 'apple-other', 'eddystone-tlm', 'empty')

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


def _die_with_parent():
    # Runs in the child between fork and exec: SIGTERM when our parent dies.
    libc = ctypes.CDLL('libc.so.6', use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class SimError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# Payloads (bytes exactly as BlueZ reports them in Device1 properties)
# ---------------------------------------------------------------------------

def ibeacon_payload(ble_uuid: str, major: int = 1, minor: int = 2, power: int = -59) -> bytes:
    return (bytes([0x02, 0x15]) + uuidlib.UUID(ble_uuid).bytes + major.to_bytes(2, 'big') +
            minor.to_bytes(2, 'big') + (power & 0xFF).to_bytes(1, 'big'))


def eddystone_uid_payload(ble_uuid: str, tx: int = -25, reserved: bool = True) -> bytes:
    raw = uuidlib.UUID(ble_uuid).bytes
    return bytes([0x00, tx & 0xFF]) + raw + (b'\x00\x00' if reserved else b'')


@dataclass
class Payload:
    """Advertisement data of one device: the Device1 properties to set."""
    manufacturer: Dict[int, bytes] = field(default_factory=dict)
    service_data: Dict[str, bytes] = field(default_factory=dict)
    uuids: List[str] = field(default_factory=list)

    @staticmethod
    def for_participant(fmt: str, ble_uuid: str, service_uuid: str = DEFAULT_ATTENDANCE_SERVICE) -> 'Payload':
        ble_uuid = str(uuidlib.UUID(ble_uuid))
        if fmt == 'ibeacon':
            return Payload(manufacturer={APPLE: ibeacon_payload(ble_uuid)})
        if fmt == 'eddystone':
            return Payload(service_data={EDDYSTONE_SERVICE: eddystone_uid_payload(ble_uuid)})
        if fmt == 'service-uuid':
            # A phone also lists standard services; only the 128-bit custom one is an id.
            return Payload(uuids=['0000180f-0000-1000-8000-00805f9b34fb', ble_uuid])
        if fmt == 'service-data':
            return Payload(service_data={service_uuid: uuidlib.UUID(ble_uuid).bytes})
        raise SimError(f'unknown format {fmt!r} (one of {", ".join(FORMATS)})')

    @staticmethod
    def noise(kind: str, seed: int = 0) -> 'Payload':
        if kind == 'sig-uuids':
            return Payload(uuids=['0000180f-0000-1000-8000-00805f9b34fb', '0000fe2c-0000-1000-8000-00805f9b34fb'])
        if kind == 'apple-overflow':
            # iOS background: manufacturer data 01 + 16-byte bitmask, no id.
            return Payload(manufacturer={APPLE: bytes([0x01]) + bytes([(seed * 7 + i) & 0xFF for i in range(16)])})
        if kind == 'altbeacon':
            return Payload(manufacturer={0x0118: bytes([0xBE, 0xAC]) + bytes(range(20)) + bytes([0xC5, 0x00])})
        if kind == 'apple-other':
            return Payload(manufacturer={APPLE: bytes([0x10, 0x05, 0x01, 0x18, 0x4A, 0x21, 0x9C])})
        if kind == 'eddystone-tlm':
            return Payload(service_data={EDDYSTONE_SERVICE: bytes([0x20, 0x00]) + bytes(12)})
        if kind == 'empty':
            return Payload()
        raise SimError(f'unknown noise kind {kind!r} (one of {", ".join(NOISE_KINDS)})')

    def air_bytes(self) -> bytes:
        """The legacy advertisement a phone would send for this payload: flags, then the AD
        structures (manufacturer data, service data, service-UUID lists), little-endian as on air.
        Phones can send at most 31 bytes; tests check every payload the simulator uses fits."""
        def le_uuid(u: str) -> bytes:
            u = str(uuidlib.UUID(u))
            if u.startswith('0000') and u.endswith(SIG_BASE_SUFFIX):
                return bytes.fromhex(u[4:8])[::-1]
            return uuidlib.UUID(u).bytes[::-1]

        def ad(kind: int, data: bytes) -> bytes:
            return bytes([len(data) + 1, kind]) + data

        out = ad(0x01, b'\x06')
        for company, data in self.manufacturer.items():
            out += ad(0xFF, company.to_bytes(2, 'little') + data)
        for service, data in self.service_data.items():
            key = le_uuid(service)
            out += ad(0x16 if len(key) == 2 else 0x21, key + data)
        short = b''.join(le_uuid(u) for u in self.uuids if len(le_uuid(u)) == 2)
        full = b''.join(le_uuid(u) for u in self.uuids if len(le_uuid(u)) == 16)
        if short:
            out += ad(0x03, short)
        if full:
            out += ad(0x07, full)
        return out

    def properties(self) -> dict:
        """Typed D-Bus values for the Device1 properties this payload sets."""
        out = {}
        if self.manufacturer:
            out['ManufacturerData'] = dbus.Dictionary(
                {dbus.UInt16(k): dbus.Array([dbus.Byte(b) for b in v], signature='y')
                 for k, v in self.manufacturer.items()}, signature='qv')
        if self.service_data:
            out['ServiceData'] = dbus.Dictionary(
                {dbus.String(k): dbus.Array([dbus.Byte(b) for b in v], signature='y')
                 for k, v in self.service_data.items()}, signature='sv')
        if self.uuids:
            out['UUIDs'] = dbus.Array([dbus.String(u) for u in self.uuids], signature='s')
        return out


def device_path(adapter: str, address: str) -> str:
    return f'/org/bluez/{adapter}/dev_' + address.replace(':', '_').upper()


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------

class BusClient:
    """Calls into the mock on one bus connection: what the Simulator and its relay (relay.py,
    on a connection of its own, from its own thread) both do."""

    def __init__(self, conn):
        self._conn = conn

    def _obj(self, path: str):
        return self._conn.get_object(BLUEZ, path, introspect=False)

    def _mock_iface(self):
        return dbus.Interface(self._obj('/'), MOCK_IFACE)

    def set_property(self, path: str, iface: str, name: str, value) -> None:
        self._obj(path).Set(iface, name, value, dbus_interface=PROPS_IFACE, signature='ssv')

    def get_property(self, path: str, iface: str, name: str):
        return self._obj(path).Get(iface, name, dbus_interface=PROPS_IFACE)

    def discovering(self, name: str) -> bool:
        return bool(self.get_property(f'/org/bluez/{name}', ADAPTER_IFACE, 'Discovering'))

    def advertise(self, adapter: str, address: str, payload: Payload, rssi: int = -60,
                  via: str = 'properties', alias: str = 'phone') -> str:
        """One advertisement from `address`.

        via='properties': like BlueZ with a device it already knows: the device is
          created if needed (mock AddDevice, whose InterfacesAdded carries wrongly
          typed data), then each property is Set → typed PropertiesChanged.
        via='added': like BlueZ with a new device: the object appears with the data
          already in its InterfacesAdded (correctly typed). If the device still
          exists it falls back to 'properties'.
        """
        path = device_path(adapter, address)
        exists = self._device_exists(path)
        if via == 'added' and not exists:
            props = {
                'Address': dbus.String(address), 'AddressType': dbus.String('random'),
                'Alias': dbus.String(alias), 'Adapter': dbus.ObjectPath(f'/org/bluez/{adapter}'),
                'Paired': dbus.Boolean(False), 'Connected': dbus.Boolean(False),
                'Trusted': dbus.Boolean(False), 'RSSI': dbus.Int16(rssi),
            }
            props.update(payload.properties())
            root = self._obj('/')
            root.AddObject(path, DEVICE_IFACE, dbus.Dictionary(props, signature='sv'),
                           dbus.Array([], signature='(ssss)'), dbus_interface=DBUSMOCK_IFACE,
                           signature='ssa{sv}a(ssss)')
            root.EmitSignal(OM_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                            [dbus.ObjectPath(path),
                             dbus.Dictionary({DEVICE_IFACE: dbus.Dictionary(props, signature='sv')},
                                             signature='sa{sv}')],
                            dbus_interface=DBUSMOCK_IFACE, signature='sssav')
            return path
        if not exists:
            try:
                self._mock_iface().AddDevice(adapter, address, alias)
            except dbus.exceptions.DBusException as e:
                if 'already exists' not in str(e):
                    raise
        for attempt in range(3):
            try:
                # RSSI first: the data, set last, is what completes the advertisement.
                self.set_property(path, DEVICE_IFACE, 'RSSI', dbus.Int16(rssi))
                for name, value in payload.properties().items():
                    self.set_property(path, DEVICE_IFACE, name, value)
                return path
            except dbus.exceptions.DBusException:
                # The scanner removed the device in between (RemoveDevice): re-create it.
                if attempt == 2:
                    raise
                try:
                    self._mock_iface().AddDevice(adapter, address, alias)
                except dbus.exceptions.DBusException:
                    pass
        return path

    def managed_objects(self) -> dict:
        return self._obj('/').GetManagedObjects(dbus_interface=OM_IFACE)

    def advertisements(self) -> list:
        """What the adapters advertise: every LEAdvertisingManager1 registration (bluez5_adv.py)."""
        return json.loads(str(self._mock_iface().Advertisements()))

    def _device_exists(self, path: str) -> bool:
        try:
            self._obj(path).Get(DEVICE_IFACE, 'Address', dbus_interface=PROPS_IFACE)
            return True
        except dbus.exceptions.DBusException:
            return False


class Simulator(BusClient):
    """Private bus + bluez5 mock. Use as a context manager, or call close()."""

    def __init__(self, address: Optional[str] = None, start_timeout: float = 15.0):
        self._tmp = tempfile.mkdtemp(prefix='bluez-sim-')
        self._daemon: Optional[subprocess.Popen] = None
        self._mock: Optional[subprocess.Popen] = None
        super().__init__(None)
        self._timeout = start_timeout
        self._closed = False
        self.adapters: Dict[str, str] = {}  # name -> alias
        self.mock_restarts = 0
        self.relay = None  # a relay.Relay while one runs (control.start_relay)
        atexit.register(self.close)
        try:
            if address is None:
                self.address = self._start_daemon()
                self.owns_bus = True
            else:
                self.address = address
                self.owns_bus = False
            self._conn = dbus.bus.BusConnection(self.address)
            if self.owns_bus:
                self._start_mock()
            else:
                self._wait_owner(True)
        except BaseException:
            self.close()
            raise

    # -- lifecycle --------------------------------------------------------

    def __enter__(self) -> 'Simulator':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start_daemon(self) -> str:
        conf = os.path.join(self._tmp, 'bus.conf')
        with open(conf, 'w', encoding='utf-8') as f:
            f.write(_BUS_CONFIG.format(dir=self._tmp))
        self._daemon = subprocess.Popen(
            ['dbus-daemon', '--config-file=' + conf, '--nofork', '--nopidfile', '--print-address=1'],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent, close_fds=True)
        line = self._daemon.stdout.readline().decode().strip()
        if not line:
            raise SimError('dbus-daemon did not print its address')
        return line

    def _start_mock(self) -> None:
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        log = os.path.join(self._tmp, f'mock-{self.mock_restarts}.log')
        self._mock = subprocess.Popen(
            [PYTHON, '-m', 'dbusmock', '--system', '--template', TEMPLATE, '-l', log],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent, close_fds=True)
        self._wait_owner(True)

    def _has_owner(self) -> bool:
        return bool(self._conn.name_has_owner(BLUEZ))

    def _wait_owner(self, present: bool) -> None:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._has_owner() == present:
                return
            if present and self._mock is not None and self._mock.poll() is not None:
                raise SimError('the bluez5 mock exited during start-up')
            time.sleep(0.02)
        raise SimError(f'org.bluez {"did not appear" if present else "did not go away"} on the bus')

    def _stop_mock(self) -> None:
        if self._mock is not None:
            self._mock.terminate()
            try:
                os.kill(self._mock.pid, signal.SIGCONT)  # a frozen mock must see the SIGTERM
            except ProcessLookupError:
                pass
            try:
                self._mock.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._mock.kill()
                self._mock.wait()
            self._mock = None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._conn is not None:
                self._conn.close()
        except Exception:  # pylint: disable=broad-except
            pass
        self._stop_mock()
        if self._daemon is not None:
            self._daemon.terminate()
            try:
                self._daemon.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait()
            if self._daemon.stdout:
                self._daemon.stdout.close()
            self._daemon = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def pids(self) -> List[int]:
        return [p.pid for p in (self._daemon, self._mock) if p is not None]

    # -- D-Bus helpers --------------------------------------------------------

    def method_calls(self, path: str, method: str) -> list:
        """Calls of `method` recorded by the mock object at `path` (e.g. StartDiscovery)."""
        return list(self._obj(path).GetMethodCalls(method, dbus_interface=DBUSMOCK_IFACE))

    def device_paths(self, adapter: Optional[str] = None) -> List[str]:
        prefix = f'/org/bluez/{adapter}/' if adapter else '/org/bluez/'
        return sorted(str(p) for p, ifaces in self.managed_objects().items()
                      if DEVICE_IFACE in ifaces and str(p).startswith(prefix))

    # -- adapters -------------------------------------------------------------

    def add_adapter(self, name: str = 'hci0', alias: str = 'attendance-pi') -> str:
        if not name or not name[-1].isdigit():
            raise SimError('adapter names must end with a digit (the mock derives the address from it)')
        path = str(self._mock_iface().AddAdapter(name, alias))
        self.adapters[name] = alias
        return path

    def remove_adapter(self, name: str, with_devices: bool = True) -> None:
        if with_devices:
            self._mock_iface().RemoveAdapterWithDevices(name)
        else:
            self._mock_iface().RemoveAdapter(name)
        self.adapters.pop(name, None)

    def set_powered(self, name: str, powered: bool) -> None:
        path = f'/org/bluez/{name}'
        if not powered:
            # Real BlueZ ends every discovery session when the controller powers off.
            self.set_property(path, ADAPTER_IFACE, 'Discovering', dbus.Boolean(False))
        self.set_property(path, ADAPTER_IFACE, 'Powered', dbus.Boolean(powered))

    def drop_discovering(self, name: str) -> None:
        """Discovery stops silently (the field failure the watchdog exists for)."""
        self.set_property(f'/org/bluez/{name}', ADAPTER_IFACE, 'Discovering', dbus.Boolean(False))

    def discovery_filter(self, name: str) -> Optional[dict]:
        try:
            f = self.get_property(f'/org/bluez/{name}', ADAPTER_IFACE, 'DiscoveryFilter')
        except dbus.exceptions.DBusException:
            return None
        return {str(k): (str(v) if isinstance(v, dbus.String) else (bool(v) if isinstance(v, dbus.Boolean) else int(v)))
                for k, v in f.items()}

    def stop_bluez(self) -> None:
        """bluetoothd stops (org.bluez loses its owner) and stays down."""
        if not self.owns_bus:
            raise SimError('stop_bluez needs a simulator that started its own mock')
        self._stop_mock()
        self._wait_owner(False)

    def start_bluez(self, adapters: Optional[Dict[str, str]] = None) -> None:
        """bluetoothd (re)starts with the given adapters (default: the ones it had)."""
        if not self.owns_bus:
            raise SimError('start_bluez needs a simulator that started its own mock')
        adapters = dict(self.adapters if adapters is None else adapters)
        self.mock_restarts += 1
        self.adapters.clear()
        self._start_mock()
        for name, alias in adapters.items():
            self.add_adapter(name, alias)

    def freeze_bluez(self) -> None:
        """bluetoothd hangs (SIGSTOP): org.bluez keeps its owner, but no method call is answered
        and no signal is sent until thaw_bluez(). Do not call the simulator meanwhile: its own
        calls would block too."""
        if self._mock is None:
            raise SimError('freeze_bluez needs a simulator that started its own mock')
        os.kill(self._mock.pid, signal.SIGSTOP)

    def thaw_bluez(self) -> None:
        """bluetoothd answers again (SIGCONT), working off what was queued meanwhile."""
        if self._mock is None:
            raise SimError('thaw_bluez needs a simulator that started its own mock')
        os.kill(self._mock.pid, signal.SIGCONT)

    def restart_bluez(self, readd_adapters: bool = True) -> None:
        """bluetoothd restart: the mock process dies (NameOwnerChanged to ''), a new one
        takes org.bluez (NameOwnerChanged to a new owner) with no objects."""
        if not self.owns_bus:
            raise SimError('restart_bluez needs a simulator that started its own mock')
        adapters = dict(self.adapters)
        self._stop_mock()
        self._wait_owner(False)
        self.mock_restarts += 1
        self.adapters.clear()
        self._start_mock()
        if readd_adapters:
            for name, alias in adapters.items():
                self.add_adapter(name, alias)

    # -- devices --------------------------------------------------------------

    def set_raw(self, adapter: str, address: str, name: str, value) -> None:
        """Set a Device1 property to any (possibly wrongly typed) value."""
        path = device_path(adapter, address)
        if not self._device_exists(path):
            self._mock_iface().AddDevice(adapter, address, 'odd')
        self.set_property(path, DEVICE_IFACE, name, value)

    def add_plain_device(self, adapter: str, address: str, alias: str = 'phone') -> str:
        """The mock's own AddDevice (InterfacesAdded with aa{qv}/aa{sv} data)."""
        return str(self._mock_iface().AddDevice(adapter, address, alias))
