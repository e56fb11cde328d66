#!/usr/bin/python3
"""bluez-sim without a bus: payload bytes, the venue plan, CLI usage errors.

usage: sim_unit_test.py TOOLS_BLUEZ_SIM_DIR"""

import signal
import subprocess
import sys
import unittest

SIM_DIR = sys.argv.pop(1)
sys.path.insert(0, SIM_DIR)

from bluez_sim import Payload, SimError, eddystone_uid_payload, ibeacon_payload  # noqa: E402
from bluez_sim.sim import FORMATS, NOISE_KINDS  # noqa: E402
from bluez_sim import relay, venue  # noqa: E402
from bluez_sim import __main__ as cli  # noqa: E402

ID = 'a1b2c3d4-e5f6-4a5b-8c7d-9e0f11223344'
ID_BYTES = bytes.fromhex('a1b2c3d4e5f64a5b8c7d9e0f11223344')


class PayloadTest(unittest.TestCase):
    def test_ibeacon_is_23_bytes_as_bluez_reports_it(self):
        self.assertEqual(ibeacon_payload(ID, 1, 2, -59), b'\x02\x15' + ID_BYTES + b'\x00\x01\x00\x02\xc5')
        self.assertEqual(Payload.for_participant('ibeacon', ID).manufacturer, {0x004C: ibeacon_payload(ID)})

    def test_eddystone_uid(self):
        self.assertEqual(eddystone_uid_payload(ID, -25), b'\x00\xe7' + ID_BYTES + b'\x00\x00')
        p = Payload.for_participant('eddystone', ID)
        self.assertEqual(list(p.service_data), ['0000feaa-0000-1000-8000-00805f9b34fb'])

    def test_service_uuid_and_service_data(self):
        self.assertIn(ID, Payload.for_participant('service-uuid', ID).uuids)
        self.assertEqual(Payload.for_participant('service-data', ID).service_data,
                         {'0000fff9-0000-1000-8000-00805f9b34fb': ID_BYTES})

    def test_every_format_and_noise_kind_fits_a_legacy_advertisement(self):
        # Only what a phone can send (ADR 0022, 0028): flags + AD structures within 31 bytes.
        for fmt in FORMATS:
            air = Payload.for_participant(fmt, ID).air_bytes()
            self.assertLessEqual(len(air), 31, f'{fmt}: {air.hex()}')
        for kind in NOISE_KINDS:
            air = Payload.noise(kind, 3).air_bytes()
            self.assertLessEqual(len(air), 31, f'{kind}: {air.hex()}')
        # The encoding is the air's: little-endian company id and 16-bit UUIDs.
        self.assertEqual(Payload.for_participant('service-data', ID).air_bytes(),
                         bytes.fromhex('020106' + '1316f9ff') + ID_BYTES)
        self.assertEqual(Payload.for_participant('ibeacon', ID).air_bytes(),
                         bytes.fromhex('020106' + '1aff4c00') + ibeacon_payload(ID))

    def test_apple_overflow_noise(self):
        data = Payload.noise('apple-overflow').manufacturer[0x004C]
        self.assertEqual(len(data), 17)
        self.assertEqual(data[0], 0x01)

    def test_unknown_names_are_errors(self):
        with self.assertRaises(SimError):
            Payload.for_participant('altbeacon', ID)
        with self.assertRaises(SimError):
            Payload.noise('nope')


class VenuePlanTest(unittest.TestCase):
    def test_same_seed_same_schedule(self):
        a = venue.plan(3, 50, 5.0)
        b = venue.plan(3, 50, 5.0)
        self.assertEqual([(e.at, e.address, e.ble_uuid) for e in a], [(e.at, e.address, e.ble_uuid) for e in b])
        c = venue.plan(4, 50, 5.0)
        self.assertNotEqual([e.ble_uuid for e in a], [e.ble_uuid for e in c])

    def test_schedule_shape(self):
        events = venue.plan(1, 200, 20.0, noise_ratio=0.25, weak_ratio=0.0)
        ids = {e.ble_uuid for e in events if e.ble_uuid}
        self.assertEqual(len(ids), 200)
        self.assertEqual(sum(1 for e in events if e.ble_uuid is None), 50)
        self.assertTrue(all(0.0 <= e.at <= 20.0 for e in events))
        self.assertEqual([e.at for e in events], sorted(e.at for e in events))
        by_id = {}
        for e in events:
            if e.ble_uuid:
                by_id.setdefault(e.ble_uuid, set()).add(e.address)
        self.assertTrue(any(len(a) > 1 for a in by_id.values()), 'some phones rotate their address')
        self.assertTrue(all(e.rssi >= -90 for e in events if e.ble_uuid))
        # Addresses are resolvable private addresses (top bits 01).
        self.assertTrue(all(0x40 <= int(e.address[:2], 16) <= 0x7F for e in events))

    def test_formats_can_be_restricted(self):
        events = venue.plan(1, 40, 5.0, formats=['eddystone'])
        self.assertEqual({e.fmt for e in events if e.ble_uuid}, {'eddystone'})

    def test_given_ids_are_broadcast_by_the_first_phones(self):
        given = ['a1b2c3d4-e5f6-4789-8abc-def012345678', 'B2C3D4E5-F6A7-4890-9BCD-EF0123456789']
        events = venue.plan(3, 10, 5.0, ids=given)
        ids = {e.ble_uuid for e in events if e.ble_uuid}
        self.assertEqual(len(ids), 10)
        self.assertIn(given[0], ids)
        self.assertIn(given[1].lower(), ids)
        with self.assertRaises(ValueError):
            venue.plan(3, 1, 5.0, ids=given)


class RealisticVenueTest(unittest.TestCase):
    """Issue 13 §3: phones at real intervals with missed packets, passers-by, background iPhones."""

    def setUp(self):
        self.events = venue.plan(5, 300, 60.0, interval='mix', miss_rate=0.1, passers=100, background_iphones=30)

    def gaps_by_phone(self, events):
        times = {}
        for e in events:
            times.setdefault(e.ble_uuid, []).append(e.at)
        return {k: [b - a for a, b in zip(v, v[1:])] for k, v in times.items()}

    def test_phones_advertise_at_android_and_ios_intervals_with_packets_missed(self):
        gaps = self.gaps_by_phone(e for e in self.events if e.ble_uuid and not e.passer)
        # A phone's shortest gap is its interval (+ advDelay); missed packets make longer ones.
        shortest = sorted(min(g) for g in gaps.values() if g)
        for seconds in (0.1, 0.25, 1.0):
            self.assertTrue(any(abs(x - seconds) <= 0.011 for x in shortest), f'no phone at {seconds} s')
        self.assertTrue(any(0.3 < x < 0.99 for x in shortest), 'iOS foreground phones between 100 ms and 1 s')
        missed = [g for v in gaps.values() for g in v if g > 1.5 * min(v)]
        total = sum(len(v) for v in gaps.values())
        self.assertTrue(0.05 < len(missed) / total < 0.2, f'{len(missed)} of {total} gaps show a missed packet')

    def test_passers_by_are_heard_under_a_second_and_weakly(self):
        passers = [e for e in self.events if e.passer]
        # A slow phone passing by may go entirely unheard (its one packet missed).
        self.assertGreaterEqual(len({e.ble_uuid for e in passers}), 90)
        spans = {}
        for e in passers:
            spans.setdefault(e.ble_uuid, []).append(e.at)
        self.assertTrue(all(max(v) - min(v) < 1.0 for v in spans.values()))
        self.assertTrue(all(e.rssi <= -86 for e in passers))

    def test_background_iphones_send_only_the_overflow_area_repeatedly(self):
        bg = [e for e in self.events if e.noise_kind == 'apple-overflow' and e.ble_uuid is None]
        per_phone = {}
        for e in bg:
            per_phone[e.address] = per_phone.get(e.address, 0) + 1
        self.assertGreaterEqual(sum(1 for n in per_phone.values() if n >= 2), 30)
        self.assertTrue(all(set(e.payload.manufacturer) == {0x004C} and not e.payload.uuids for e in bg))

    def test_everything_sent_fits_a_legacy_advertisement(self):
        self.assertTrue(all(len(e.payload.air_bytes()) <= 31 for e in self.events))


class CliTest(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run(['/usr/bin/python3', SIM_DIR + '/bluez-sim', *args], capture_output=True, text=True,
                              timeout=60, check=False, env={'PYTHONDONTWRITEBYTECODE': '1', 'PATH': '/usr/bin:/bin'})

    def test_bad_arguments_exit_2_with_a_message(self):
        r = self.run_cli('venue', '--formats', 'ibeacon,altbeacon')
        self.assertEqual(r.returncode, 2)
        self.assertIn('altbeacon', r.stderr)
        r = self.run_cli('venue', '--phones', '-1')
        self.assertEqual(r.returncode, 2)
        r = self.run_cli('nonsense')
        self.assertEqual(r.returncode, 2)
        r = self.run_cli('venue', '--ble-uuids', '/nonexistent/ids.txt')
        self.assertEqual(r.returncode, 2)
        self.assertIn('/nonexistent/ids.txt', r.stderr)
        r = self.run_cli('serve', '--relay-interval', '-1')
        self.assertEqual(r.returncode, 2)
        self.assertIn('--relay-interval', r.stderr)


class RelayPayloadTest(unittest.TestCase):
    """What an LEAdvertisement1 registration becomes in a receiving adapter's Device1 properties."""

    def test_ibeacon_registration_is_apple_manufacturer_data(self):
        reg = {'manufacturerData': {'76': ibeacon_payload(ID, 0, 0).hex()}, 'serviceData': {}, 'serviceUuids': []}
        p = relay.payload_of(reg)
        self.assertEqual(p.manufacturer, {0x004C: ibeacon_payload(ID, 0, 0)})
        self.assertEqual(len(p.air_bytes()), 30)

    def test_eddystone_registration_gets_full_sig_uuids_and_fits_31_bytes(self):
        data = eddystone_uid_payload(ID, -18)
        reg = {'manufacturerData': {}, 'serviceData': {'FEAA': data.hex()}, 'serviceUuids': ['FEAA']}
        p = relay.payload_of(reg)
        self.assertEqual(p.service_data, {'0000feaa-0000-1000-8000-00805f9b34fb': data})
        self.assertEqual(p.uuids, ['0000feaa-0000-1000-8000-00805f9b34fb'])
        self.assertEqual(len(p.air_bytes()), 31)

    def test_an_interval_must_be_positive(self):
        with self.assertRaises(ValueError):
            relay.Relay('unix:path=/nonexistent', 0)


class StopSignalTest(unittest.TestCase):
    """SIGTERM/SIGINT stop bluez-sim wherever they land, also inside the code that rides out D-Bus errors
    (scripts/demo waits for the simulator after SIGTERM: a swallowed stop hung it)."""

    class Sim:
        """Receives the stop signal in the middle of a D-Bus call."""

        def discovering(self, _adapter):
            cli._raise_stop(signal.SIGTERM, None)  # pylint: disable=protected-access

        def advertise(self, *_args, **_kwargs):
            cli._raise_stop(signal.SIGTERM, None)  # pylint: disable=protected-access

    def test_a_stop_while_waiting_for_discovery_ends_the_wait(self):
        with self.assertRaises(cli._Stop):  # pylint: disable=protected-access
            cli._wait_discovering(self.Sim(), 'hci0', 1.0)  # pylint: disable=protected-access

    def test_a_stop_while_advertising_ends_the_venue(self):
        events = venue.plan(1, 1, 1.0, noise_ratio=0.0)
        with self.assertRaises(cli._Stop):  # pylint: disable=protected-access
            venue.run(self.Sim(), 'hci0', events)


if __name__ == '__main__':
    unittest.main(verbosity=2)
