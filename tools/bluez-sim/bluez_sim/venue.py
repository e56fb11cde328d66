"""A simulated venue: participants' phones arriving over a few seconds and
advertising repeatedly while they stay, some rotating their address, plus noise
devices. Deterministic for a
given seed; the ground truth (which bleUuid advertised when, from which address)
is written as JSON so a test or the demo can compare the scanner's log with it."""

from __future__ import annotations

import json
import random
import time
import uuid as uuidlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from .sim import FORMATS, NOISE_KINDS, Payload, Simulator


@dataclass
class Event:
    at: float            # seconds after the start
    address: str
    payload: Payload
    rssi: int
    via: str
    ble_uuid: Optional[str] = None  # None for noise
    fmt: Optional[str] = None
    noise_kind: Optional[str] = None
    passer: bool = False  # a phone with the app walking past the door, not coming in


def random_address(rng: random.Random) -> str:
    # Resolvable private address: the two top bits of the first byte are 01.
    first = 0x40 | rng.randrange(0x40)
    rest = [rng.randrange(256) for _ in range(5)]
    return ':'.join(f'{b:02X}' for b in [first] + rest)


# How long a participant's phone stays in range: long enough for the scanner's
# presence rule (2 sightings over 2 s by default, ADR 0025), short enough for a demo.
STAY_MIN_S = 3.0
STAY_MAX_S = 8.0
# The Bluetooth spec adds a random 0-10 ms advDelay to every advertising interval.
ADV_DELAY_MAX_S = 0.010
# interval='mix': how phones really advertise (issue 13 §3). Android's AdvertiseSettings modes
# low-latency 100 ms, balanced 250 ms, low-power 1 s; an iOS app in the foreground somewhere
# between ~100 ms and 1 s. Weights: the share of phones in each mode (our app asks for balanced).
PROFILES = (('android-low-latency', 0.10, 0.1), ('android-balanced', 0.35, 0.25),
            ('android-low-power', 0.20, 1.0), ('ios-foreground', 0.35, None))
# Passers-by: heard for under a second, far from the scanner.
PASSER_STAY_S = (0.2, 0.9)
PASSER_RSSI = (-97, -86)


def pick_interval(rng: random.Random, interval) -> float:
    """A phone's advertising interval: the given one, or one of PROFILES for 'mix'."""
    if interval != 'mix':
        return float(interval)
    r = rng.random()
    for _, weight, seconds in PROFILES:
        if r < weight:
            return seconds if seconds is not None else rng.uniform(0.1, 1.0)
        r -= weight
    return 1.0


def plan(seed: int, phones: int, duration: float, noise_ratio: float = 0.25,
         formats: Sequence[str] = FORMATS, rotate_ratio: float = 0.15,
         weak_ratio: float = 0.0, rssi_min: int = -90, ids: Sequence[str] = (),
         interval=1.0, miss_rate: float = 0.0, passers: int = 0,
         background_iphones: int = 0) -> List[Event]:
    """The advertisement schedule. Each participant's phone arrives within the first
    80 % of `duration`, stays STAY_MIN_S..STAY_MAX_S (never past `duration`) and
    advertises every `interval` seconds (+ advDelay) meanwhile, as a phone does
    (Android low-power 1 s, balanced 250 ms, low-latency 100 ms; iOS foreground
    ~100 ms to 1 s), all above the RSSI floor with a few dB of noise around its
    distance. rotate_ratio of them change their address once during the stay;
    weak_ratio of them additionally advertise once below the floor.
    The first len(ids) phones broadcast the given bleUuids (registered participants
    in the demo); the rest broadcast random ones.

    interval='mix' gives each phone one of PROFILES' intervals. miss_rate drops that share of
    packets (collisions, the scanner's radio on another channel). `passers` phones with the app
    walk past: heard for under a second at weak RSSI, never inside. `background_iphones` iPhones
    with the app in the background stay like participants but send only Apple's overflow area."""
    if len(ids) > phones:
        raise ValueError(f'{len(ids)} bleUuids given for {phones} phones')
    if interval != 'mix' and float(interval) <= 0:
        raise ValueError('the advertising interval must be positive')
    if not 0.0 <= miss_rate < 1.0:
        raise ValueError('the miss rate must be in [0, 1)')
    rng = random.Random(seed)
    weights = {'ibeacon': 6, 'eddystone': 2, 'service-uuid': 1, 'service-data': 1}
    fmts = [f for f in formats if f in weights]
    if not fmts:
        raise ValueError('no participant format selected')
    events: List[Event] = []
    used: set = set()

    def fresh_address() -> str:
        while True:
            a = random_address(rng)
            if a not in used:
                used.add(a)
                return a

    for i in range(phones):
        random_id = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        ble_uuid = str(uuidlib.UUID(ids[i])) if i < len(ids) else random_id
        fmt = rng.choices(fmts, weights=[weights[f] for f in fmts])[0]
        payload = Payload.for_participant(fmt, ble_uuid)
        address = fresh_address()
        first = rng.uniform(0.0, duration * 0.8)
        leave = min(first + rng.uniform(STAY_MIN_S, STAY_MAX_S), duration)
        rotate_at = rng.uniform(first, leave) if rng.random() < rotate_ratio else None
        # Where the phone is (its mean RSSI); each packet varies a few dB around it,
        # kept above the floor: these are the participants who are really there.
        level = rng.randint(-80, -45)
        via = 'added' if rng.random() < 0.5 else 'properties'
        every = pick_interval(rng, interval)
        at = first
        while at <= leave:
            if rotate_at is not None and at >= rotate_at:
                address, via, rotate_at = fresh_address(), 'added', None
            rssi = max(rssi_min, min(-40, level + rng.randint(-5, 5)))
            if miss_rate == 0.0 or rng.random() >= miss_rate:
                events.append(Event(at, address, payload, rssi, via, ble_uuid, fmt))
                via = 'properties'  # the device object exists now: later packets update it
            at += every + rng.uniform(0.0, ADV_DELAY_MAX_S)
        if rng.random() < weak_ratio:
            events.append(Event(rng.uniform(0.0, duration), fresh_address(), payload,
                                rssi_min - 10, 'properties', ble_uuid, fmt))
    for _ in range(passers):
        ble_uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        fmt = rng.choices(fmts, weights=[weights[f] for f in fmts])[0]
        payload, address = Payload.for_participant(fmt, ble_uuid), fresh_address()
        every = pick_interval(rng, interval)
        first = rng.uniform(0.0, duration * 0.9)
        leave = min(first + rng.uniform(*PASSER_STAY_S), duration)
        at, via = first, 'added'
        while at <= leave:
            if miss_rate == 0.0 or rng.random() >= miss_rate:
                events.append(Event(at, address, payload, rng.randint(*PASSER_RSSI), via, ble_uuid, fmt, passer=True))
                via = 'properties'
            at += every + rng.uniform(0.0, ADV_DELAY_MAX_S)
    for i in range(background_iphones):
        # iOS advertises more slowly in the background; only the overflow area, no id (ADR 0022).
        payload, address = Payload.noise('apple-overflow', i), fresh_address()
        first = rng.uniform(0.0, duration * 0.8)
        leave = min(first + rng.uniform(STAY_MIN_S, STAY_MAX_S), duration)
        level = rng.randint(-80, -45)
        at = first
        while at <= leave:
            if miss_rate == 0.0 or rng.random() >= miss_rate:
                events.append(Event(at, address, payload, max(rssi_min, min(-40, level + rng.randint(-5, 5))),
                                    'properties', noise_kind='apple-overflow'))
            at += 1.0 + rng.uniform(0.0, ADV_DELAY_MAX_S)
    for i in range(int(phones * noise_ratio)):
        kind = NOISE_KINDS[i % len(NOISE_KINDS)]
        events.append(Event(rng.uniform(0.0, duration), fresh_address(), Payload.noise(kind, i),
                            rng.randint(-95, -40), 'properties', noise_kind=kind))
    events.sort(key=lambda e: e.at)
    return events


def run(sim: Simulator, adapter: str, events: List[Event], truth_path: Optional[str] = None,
        seed: Optional[int] = None, rssi_min: int = -90, on_progress=None) -> dict:
    """Plays the schedule in real time on `adapter`; returns (and writes) the truth."""
    start_wall = time.time()
    start = time.monotonic()
    participants: Dict[str, dict] = {}
    passers: Dict[str, dict] = {}
    noise = 0
    failures = 0
    errors: List[str] = []
    for i, ev in enumerate(events):
        delay = start + ev.at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        at_ms = int(time.time() * 1000)
        try:
            sim.advertise(adapter, ev.address, ev.payload, rssi=ev.rssi, via=ev.via)
        except Exception as e:  # pylint: disable=broad-except
            failures += 1
            if len(errors) < 5:
                errors.append(f'{ev.address}: {type(e).__name__}: {e}')
            continue
        if ev.ble_uuid is None:
            noise += 1
        elif ev.passer:
            p = passers.setdefault(ev.ble_uuid, {'bleUuid': ev.ble_uuid, 'format': ev.fmt, 'advertisements': []})
            p['advertisements'].append({'atMs': at_ms, 'address': ev.address, 'rssi': ev.rssi})
        else:
            p = participants.setdefault(ev.ble_uuid, {'bleUuid': ev.ble_uuid, 'format': ev.fmt, 'advertisements': []})
            p['advertisements'].append({'atMs': at_ms, 'address': ev.address, 'rssi': ev.rssi,
                                        'aboveFloor': ev.rssi >= rssi_min})
        if on_progress and i % 50 == 0:
            on_progress(i, len(events))
    truth = {
        'seed': seed,
        'adapter': adapter,
        'startedAtMs': int(start_wall * 1000),
        'finishedAtMs': int(time.time() * 1000),
        'rssiMin': rssi_min,
        'participants': sorted(participants.values(), key=lambda p: p['advertisements'][0]['atMs']),
        'passersBy': sorted(passers.values(), key=lambda p: p['advertisements'][0]['atMs']),
        'noiseAdvertisements': noise,
        'failedAdvertisements': failures,
        'failureSamples': errors,
    }
    if truth_path:
        with open(truth_path, 'w', encoding='utf-8') as f:
            json.dump(truth, f, indent=1)
            f.write('\n')
    return truth
