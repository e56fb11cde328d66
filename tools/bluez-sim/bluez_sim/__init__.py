"""bluez-sim: a private D-Bus system bus with python-dbusmock's bluez5 template and
simulated BLE phones, for the attendance scanner's tests and demo."""

from .sim import (DEFAULT_ATTENDANCE_SERVICE, EDDYSTONE_SERVICE, FORMATS, NOISE_KINDS, Payload, SimError,
                  Simulator, device_path, eddystone_uid_payload, ibeacon_payload)

__all__ = ['DEFAULT_ATTENDANCE_SERVICE', 'EDDYSTONE_SERVICE', 'FORMATS', 'NOISE_KINDS', 'Payload', 'SimError',
           'Simulator', 'device_path', 'eddystone_uid_payload', 'ibeacon_payload']
