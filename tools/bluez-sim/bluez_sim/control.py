"""Line-oriented JSON control of a Simulator over stdin/stdout, so tests in any
language (the C++ gtest integration tests) can drive it step by step.

Request:  {"cmd": "advertise", "adapter": "hci0", ...}\\n
Reply:    {"ok": true, "result": ...}\\n   or   {"ok": false, "error": "..."}\\n
The first line written is {"ok": true, "result": {"address": ..., "pids": [...]}}."""

from __future__ import annotations

import json
import sys
from typing import Callable, Dict

import dbus

from .relay import Relay
from .sim import DEFAULT_ATTENDANCE_SERVICE, Payload, Simulator, device_path

# Wrongly typed Device1 values a broken (or hostile) BlueZ could send.
RAW_CASES: Dict[str, Callable[[], tuple]] = {
    'manufacturer-data-string': lambda: ('ManufacturerData', dbus.String('garbage')),
    'manufacturer-data-inner-string': lambda: (
        'ManufacturerData', dbus.Dictionary({dbus.UInt16(0x004C): dbus.String('02 15 not bytes')}, signature='qv')),
    'manufacturer-data-wrong-key': lambda: (
        'ManufacturerData', dbus.Dictionary({dbus.String('76'): dbus.Array([dbus.Byte(2)], signature='y')},
                                            signature='sv')),
    'service-data-bad-key': lambda: (
        'ServiceData', dbus.Dictionary({dbus.String('not-a-uuid'): dbus.Array([dbus.Byte(0)] * 16, signature='y')},
                                       signature='sv')),
    'service-data-int': lambda: ('ServiceData', dbus.Int32(5)),
    'uuids-int-array': lambda: ('UUIDs', dbus.Array([dbus.Int32(1)], signature='i')),
    'rssi-string': lambda: ('RSSI', dbus.String('-50')),
}


def start_relay(sim: Simulator, interval: float) -> Relay:
    """Starts (or restarts at a new interval) the relay between the adapters (relay.py)."""
    stop_relay(sim)
    relay = Relay(sim.address, interval)
    relay.start()
    sim.relay = relay
    return relay


def stop_relay(sim: Simulator) -> None:
    relay = getattr(sim, 'relay', None)
    if relay is not None:
        relay.stop()
        sim.relay = None


def _handle(sim: Simulator, req: dict):
    cmd = req.get('cmd')
    a = req.get('adapter', 'hci0')
    if cmd == 'info':
        return {'address': sim.address, 'pids': sim.pids()}
    if cmd == 'add_adapter':
        return sim.add_adapter(req.get('name', 'hci0'), req.get('alias', 'attendance-pi'))
    if cmd == 'remove_adapter':
        sim.remove_adapter(req['name'], bool(req.get('with_devices', True)))
        return None
    if cmd == 'set_powered':
        sim.set_powered(req['name'], bool(req['powered']))
        return None
    if cmd == 'drop_discovering':
        sim.drop_discovering(req['name'])
        return None
    if cmd == 'discovering':
        return sim.discovering(req['name'])
    if cmd == 'filter':
        return sim.discovery_filter(req['name'])
    if cmd == 'restart_bluez':
        sim.restart_bluez(bool(req.get('readd_adapters', True)))
        return sim.pids()
    if cmd == 'advertise':
        payload = Payload.for_participant(req['format'], req['ble_uuid'],
                                          req.get('service_uuid', DEFAULT_ATTENDANCE_SERVICE))
        return sim.advertise(a, req['address'], payload, rssi=int(req.get('rssi', -60)),
                             via=req.get('via', 'properties'))
    if cmd == 'noise':
        return sim.advertise(a, req['address'], Payload.noise(req['kind']), rssi=int(req.get('rssi', -60)),
                             via=req.get('via', 'properties'))
    if cmd == 'manufacturer':
        # Arbitrary manufacturer data: {"company": 76, "hex": "0215..."}.
        payload = Payload(manufacturer={int(req['company']): bytes.fromhex(req['hex'])})
        return sim.advertise(a, req['address'], payload, rssi=int(req.get('rssi', -60)),
                             via=req.get('via', 'properties'))
    if cmd == 'raw':
        name, value = RAW_CASES[req['case']]()
        sim.set_raw(a, req['address'], name, value)
        return device_path(a, req['address'])
    if cmd == 'stop_bluez':
        sim.stop_bluez()
        return None
    if cmd == 'start_bluez':
        sim.start_bluez()
        return sim.pids()
    if cmd == 'set_device_flag':
        # Paired / Trusted / Connected on a device: such devices are never removed.
        sim.set_raw(a, req['address'], req['name'], dbus.Boolean(bool(req.get('value', True))))
        return device_path(a, req['address'])
    if cmd == 'plain_device':
        return sim.add_plain_device(a, req['address'], req.get('alias', 'phone'))
    if cmd == 'device_paths':
        return sim.device_paths(req.get('adapter'))
    if cmd == 'calls':
        return len(sim.method_calls(req['path'], req['method']))
    if cmd == 'pids':
        return sim.pids()
    if cmd == 'advertisements':
        # LEAdvertisingManager1 registrations, [{"adapter", "sender", "path", "serial", ...}].
        return sim.advertisements()
    if cmd == 'relay':
        # {"interval": seconds} starts the relay, {"interval": 0} stops it; answers the packets relayed so far.
        interval = float(req.get('interval', 1.0))
        if interval > 0:
            start_relay(sim, interval)
            return 0
        packets = sim.relay.packets if getattr(sim, 'relay', None) else 0
        stop_relay(sim)
        return packets
    if cmd == 'relayed':
        return sim.relay.packets if getattr(sim, 'relay', None) else 0
    raise ValueError(f'unknown command {cmd!r}')


def serve(sim: Simulator, inp=None, out=None) -> int:
    inp = inp or sys.stdin
    out = out or sys.stdout
    out.write(json.dumps({'ok': True, 'result': {'address': sim.address, 'pids': sim.pids()}}) + '\n')
    out.flush()
    for line in inp:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if req.get('cmd') == 'quit':
                out.write(json.dumps({'ok': True, 'result': None}) + '\n')
                out.flush()
                return 0
            reply = {'ok': True, 'result': _handle(sim, req)}
        except Exception as e:  # pylint: disable=broad-except
            reply = {'ok': False, 'error': f'{type(e).__name__}: {e}'}
        out.write(json.dumps(reply) + '\n')
        out.flush()
    return 0
