"""python-dbusmock template: the bluez5 template plus org.bluez.LEAdvertisingManager1 on every
adapter, as bluetoothd has it (issue 11 §3). Loaded by the mock process from this file's path
(`python3 -m dbusmock --template <this file>`), so it runs inside the mock, not in the simulator.

What it does like bluetoothd:
- RegisterAdvertisement(o advertisement, a{sv} options) reads the caller's LEAdvertisement1
  properties back from the caller (Properties.GetAll, asynchronously: the caller's loop answers
  while its call is pending) and only then answers; errors with bluetoothd's names:
  InvalidArguments (not an adapter, unknown Type, unreadable object), AlreadyExists (the same
  object twice), InvalidLength (more than 31 bytes of advertising data, flags included),
  NotPermitted (all instances in use), Failed ("Failed to parse advertisement.") for
  MinInterval/MaxInterval outside 20 ms..10,485 s or a minimum above the maximum (bluetoothd
  with experimental features on; without them it ignores both properties and the kernel's
  default interval of 1.28 s applies).
- UnregisterAdvertisement(o) (DoesNotExist for an unknown one); a client that leaves the bus
  loses its advertisements (bluetoothd watches its name).
- Properties ActiveInstances, SupportedInstances, SupportedIncludes.
What the simulator needs: org.bluez.Mock.Advertisements() gives every registration as JSON, for
its relay (bluez_sim/relay.py) and its tests.
"""

# pylint: disable=wildcard-import,unused-wildcard-import,invalid-name
import json

import dbus
from dbusmock import mockobject
from dbusmock.templates.bluez5 import *  # noqa: F401,F403  (the template's methods and constants)
from dbusmock.templates import bluez5 as _base

LE_ADV_MANAGER_IFACE = 'org.bluez.LEAdvertisingManager1'
LE_ADV_IFACE = 'org.bluez.LEAdvertisement1'
SUPPORTED_INSTANCES = 4
LEGACY_BYTES = 31
INTERVAL_RANGE_MS = (20, 10_485_000)  # bluetoothd's range for MinInterval/MaxInterval
SIG_BASE_SUFFIX = '-0000-1000-8000-00805f9b34fb'

# (adapter path, sender, object path) -> {'serial': n, 'props': {...}}; dies with the mock,
# as bluetoothd's registrations die with bluetoothd.
_ADVERTS = {}
_STATE = {'serial': 0, 'watches': {}}


def _error(name, message):
    return dbus.exceptions.DBusException(message, name='org.bluez.Error.' + name)


def _uuid_bytes(text):
    """Bytes of a UUID in an AD structure: 2 for a 16-bit one (SIG base), 16 otherwise."""
    text = str(text).lower()
    if len(text) == 4:
        return 2
    if len(text) == 8:
        return 4
    if text.startswith('0000') and text.endswith(SIG_BASE_SUFFIX):
        return 2
    return 16


def _advertising_bytes(props):
    """Legacy advertising data bluetoothd would build: flags, manufacturer data, service UUIDs,
    service data, local name."""
    total = 3  # flags
    for _company, data in dict(props.get('ManufacturerData', {})).items():
        total += 2 + 2 + len(data)
    uuids = [str(u) for u in props.get('ServiceUUIDs', [])]
    for size in (2, 4, 16):
        n = sum(1 for u in uuids if _uuid_bytes(u) == size)
        if n:
            total += 2 + size * n
    for key, data in dict(props.get('ServiceData', {})).items():
        total += 2 + _uuid_bytes(key) + len(data)
    if 'LocalName' in props:
        total += 2 + len(str(props['LocalName']).encode('utf-8'))
    return total


def _plain(props):
    """The registration as JSON-friendly values: bytes as hex."""
    out = {'type': str(props.get('Type', ''))}
    out['manufacturerData'] = {str(int(k)): bytes(bytearray(v)).hex()
                               for k, v in dict(props.get('ManufacturerData', {})).items()}
    out['serviceData'] = {str(k): bytes(bytearray(v)).hex() for k, v in dict(props.get('ServiceData', {})).items()}
    out['serviceUuids'] = [str(u) for u in props.get('ServiceUUIDs', [])]
    for key, name in (('MinInterval', 'minInterval'), ('MaxInterval', 'maxInterval')):
        if key in props:
            out[name] = int(props[key])
    return out


def _interval_error(props):
    """bluetoothd's checks of the requested advertising interval, or None."""
    lo, hi = INTERVAL_RANGE_MS
    for key in ('MinInterval', 'MaxInterval'):
        if key in props and not lo <= int(props[key]) <= hi:
            return f'{key} {int(props[key])} ms out of range'
    if 'MinInterval' in props and 'MaxInterval' in props and int(props['MinInterval']) > int(props['MaxInterval']):
        return 'MinInterval is larger than MaxInterval'
    return None


def _set_active(adapter_path):
    obj = mockobject.objects.get(adapter_path)
    if obj is None or LE_ADV_MANAGER_IFACE not in obj.props:
        return
    n = sum(1 for (a, _s, _p) in _ADVERTS if a == adapter_path)
    obj.props[LE_ADV_MANAGER_IFACE]['ActiveInstances'] = dbus.Byte(n)
    obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [
        LE_ADV_MANAGER_IFACE, {'ActiveInstances': dbus.Byte(n, variant_level=1)}, []])


def _watch(connection, sender):
    if sender in _STATE['watches']:
        return

    def owner_changed(owner):
        if owner:
            return
        gone = [k for k in _ADVERTS if k[1] == sender]
        for k in gone:
            del _ADVERTS[k]
        for adapter in {k[0] for k in gone}:
            _set_active(adapter)
        watch = _STATE['watches'].pop(sender, None)
        if watch is not None:
            watch.cancel()

    _STATE['watches'][sender] = connection.watch_name_owner(sender, owner_changed)


@dbus.service.method(LE_ADV_MANAGER_IFACE, in_signature='oa{sv}', out_signature='', sender_keyword='sender',
                     path_keyword='path', async_callbacks=('ok', 'err'))
def RegisterAdvertisement(self, advertisement, _options, sender=None, path=None, ok=None, err=None):
    obj = mockobject.objects.get(path)
    if obj is None or LE_ADV_MANAGER_IFACE not in obj.props:
        err(_error('InvalidArguments', f'{path} has no advertising manager'))
        return
    key = (path, str(sender), str(advertisement))
    if key in _ADVERTS:
        err(_error('AlreadyExists', 'Advertisement already exists'))
        return
    if sum(1 for (a, _s, _p) in _ADVERTS if a == path) >= SUPPORTED_INSTANCES:
        err(_error('NotPermitted', 'Maximum advertisements reached'))
        return
    connection = self.connection

    def got(props):
        if str(props.get('Type', '')) not in ('broadcast', 'peripheral'):
            err(_error('InvalidArguments', 'Invalid Type'))
            return
        interval_error = _interval_error(props)
        if interval_error is not None:
            err(_error('Failed', f'Failed to parse advertisement. ({interval_error})'))
            return
        if _advertising_bytes(props) > LEGACY_BYTES:
            err(_error('InvalidLength', 'Advertising data too long'))
            return
        if key in _ADVERTS:
            err(_error('AlreadyExists', 'Advertisement already exists'))
            return
        _STATE['serial'] += 1
        _ADVERTS[key] = {'serial': _STATE['serial'], 'props': _plain(props)}
        _watch(connection, str(sender))
        _set_active(path)
        ok()

    def failed(e):
        err(_error('InvalidArguments', f'Failed to read the advertisement: {e}'))

    connection.call_async(str(sender), str(advertisement), dbus.PROPERTIES_IFACE, 'GetAll', 's', [LE_ADV_IFACE],
                          got, failed, timeout=5.0)


@dbus.service.method(LE_ADV_MANAGER_IFACE, in_signature='o', out_signature='', sender_keyword='sender',
                     path_keyword='path')
def UnregisterAdvertisement(_self, advertisement, sender=None, path=None):
    key = (path, str(sender), str(advertisement))
    if key not in _ADVERTS:
        raise _error('DoesNotExist', 'Advertisement not registered')
    del _ADVERTS[key]
    _set_active(path)


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature='', out_signature='s')  # noqa: F405
def Advertisements(_self):
    """Every registration: [{"adapter": "hci0", "sender": ":1.5", "path": "/...", "serial": 1, "type": ...,
    "manufacturerData": {"76": "hex"}, "serviceData": {"FEAA": "hex"}, "serviceUuids": [...],
    "minInterval": 250, "maxInterval": 250}] (the intervals only when the caller asked for one)."""
    out = []
    for (adapter, sender, path), reg in sorted(_ADVERTS.items(), key=lambda kv: kv[1]['serial']):
        if adapter not in mockobject.objects:
            continue
        item = {'adapter': adapter.rsplit('/', 1)[-1], 'sender': sender, 'path': path, 'serial': reg['serial']}
        item.update(reg['props'])
        out.append(item)
    return json.dumps(out)


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature='ss', out_signature='s')  # noqa: F405
def AddAdapter(self, device_name, system_name):
    """The bluez5 template's AddAdapter, plus LEAdvertisingManager1 on the adapter (announced
    with its own InterfacesAdded, as bluetoothd adds it once the controller is up)."""
    path = _base.AddAdapter(self, device_name, system_name)
    props = {
        'ActiveInstances': dbus.Byte(0, variant_level=1),
        'SupportedInstances': dbus.Byte(SUPPORTED_INSTANCES, variant_level=1),
        'SupportedIncludes': dbus.Array(['tx-power', 'appearance', 'local-name'], signature='s', variant_level=1),
    }
    adapter = mockobject.objects[path]
    adapter.AddProperties(LE_ADV_MANAGER_IFACE, props)
    mockobject.objects['/'].EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',  # noqa: F405
                                       [dbus.ObjectPath(path), {LE_ADV_MANAGER_IFACE: props}])
    return path


def load(mock, parameters):
    _base.load(mock, parameters)
