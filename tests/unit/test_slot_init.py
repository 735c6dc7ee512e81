"""init_through_slots keeps everything a frozen dataclass promises but the cost of building one."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from routewatch.model import Peer, RouteAnnouncement, RouteWithdrawal, Safi
from routewatch.slot_init import init_through_slots

PEER = Peer("rrc00", "192.0.2.1", 64496)
PREFIX = ipaddress.ip_network("198.51.100.0/24")


def test_fields_defaults_and_equality_are_the_dataclass_ones() -> None:
    route = RouteAnnouncement(1.5, PEER, PREFIX, (64496,))
    assert (route.safi, route.path_id, route.origin, route.next_hop, route.communities) == (Safi.UNICAST, 0, None,
                                                                                             None, ())
    assert route == RouteAnnouncement(1.5, PEER, PREFIX, (64496,), Safi.UNICAST, 0)
    assert hash(route) == hash(RouteAnnouncement(1.5, PEER, PREFIX, (64496,)))
    assert dataclasses.replace(route, time=2.0).time == 2.0
    assert RouteWithdrawal(time=1.0, peer=PEER, prefix=PREFIX, path_id=7).path_id == 7


def test_instances_stay_frozen() -> None:
    route = RouteWithdrawal(1.0, PEER, PREFIX)
    with pytest.raises(dataclasses.FrozenInstanceError):
        route.time = 2.0  # type: ignore[misc]


def test_missing_and_unknown_arguments_fail_as_before() -> None:
    with pytest.raises(TypeError):
        RouteWithdrawal(1.0, PEER)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        RouteWithdrawal(1.0, PEER, PREFIX, colour="red")  # type: ignore[call-arg]


def test_classes_it_cannot_speed_up_safely_are_refused() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        x: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithPostInit:
        x: int

        def __post_init__(self) -> None:
            pass

    for cls in (Mutable, WithFactory, WithPostInit):
        with pytest.raises(TypeError):
            init_through_slots(cls)
