"""Shards: every item in exactly one shard, few moves when one is added, the shard found where Kubernetes puts it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.config.schema import Config, parse_config
from routewatch.config.shards import owner, shard_from_environment
from routewatch.daemon.sharding import LocalShard, local_port_problems, own_part
from routewatch.errors import ConfigError


def config_of(prefixes: int, asns: int, zones: int, shards: int = 1, **sharding: int) -> dict[str, object]:
    return {
        "prefixes": [{"prefix": f"10.{i // 256}.{i % 256}.0/24", "asn": 64500} for i in range(prefixes)],
        "asns": [{"asn": 64600 + i, "max_prefixes": 10} for i in range(asns)],
        "zones": [{"zone": f"zone{i}.example"} for i in range(zones)],
        "sharding": {"shards": shards, **sharding},
        "limits": {"max_watched_prefixes": 1_000_000},
    }


@settings(max_examples=25, deadline=None)
@given(shards=st.integers(1, 12), prefixes=st.integers(0, 300), asns=st.integers(0, 20), zones=st.integers(0, 20))
def test_the_shards_together_watch_everything_once(shards: int, prefixes: int, asns: int, zones: int) -> None:
    config = parse_config(config_of(prefixes, asns, zones, shards))
    parts = [config.part(i) for i in range(shards)]
    assert sorted(str(w.prefix) for p in parts for w in p.prefixes) == sorted(str(w.prefix) for w in config.prefixes)
    assert sorted(a.asn for p in parts for a in p.asns) == sorted(a.asn for a in config.asns)
    assert sorted(z.zone for p in parts for z in p.zones) == sorted(z.zone for z in config.zones)


@settings(max_examples=15, deadline=None)
@given(shards=st.integers(1, 15))
def test_adding_a_shard_moves_about_one_share_and_only_to_the_new_shard(shards: int) -> None:
    keys = [f"prefix:10.{i // 256}.{i % 256}.0/24" for i in range(3000)]
    moved = [k for k in keys if owner(k, shards) != owner(k, shards + 1)]
    assert all(owner(k, shards + 1) == shards for k in moved)  # nothing moves between old shards
    expected = len(keys) / (shards + 1)
    assert 0.75 * expected <= len(moved) <= 1.25 * expected


def test_the_shard_comes_from_the_config_the_environment_or_the_statefulset_ordinal() -> None:
    assert shard_from_environment({"ROUTEWATCH_SHARD": "2"}, "routewatch-7") == 2
    assert shard_from_environment({}, "routewatch-7.routewatch.monitoring.svc") == 7
    assert shard_from_environment({}, "bastion") is None
    with pytest.raises(ValueError):
        shard_from_environment({"ROUTEWATCH_SHARD": "two"}, "x")
    config = parse_config(config_of(40, 0, 0, 3))
    assert own_part(config, environ={}, hostname="routewatch-1").prefixes == config.part(1).prefixes
    pinned = parse_config(config_of(40, 0, 0, 3, shard=2))
    assert own_part(pinned, environ={"ROUTEWATCH_SHARD": "0"}, hostname="x").sharding.shard == 2
    with pytest.raises(ConfigError):
        own_part(config, environ={}, hostname="routewatch-5")


def test_a_local_worker_takes_its_part_and_its_own_port() -> None:
    config = parse_config(config_of(40, 2, 2))
    worker = own_part(config, LocalShard(1, 3))
    assert worker.exporter.port == config.exporter.port + 1
    assert (worker.sharding.shard, worker.sharding.shards) == (1, 3)
    assert worker.prefixes == config.model_copy(update={"sharding": worker.sharding}).part(1).prefixes


def test_caps_count_each_shards_part_and_a_shard_must_be_below_shards() -> None:
    over = config_of(300, 0, 0, 1) | {"limits": {"max_watched_prefixes": 200}}
    with pytest.raises(ConfigError) as caught:
        parse_config(over)
    assert caught.value.problems[0].startswith("limits.max_watched_prefixes: this config can watch up to 300")
    parse_config(over | {"sharding": {"shards": 2}})  # ~150 each: within the cap
    with pytest.raises(ConfigError) as caught:
        parse_config(config_of(1, 0, 0, 2, shard=2))
    assert caught.value.problems == ["sharding.shard: must be below sharding.shards (2), got 2"]


def _with_station(exporter: int, station: int) -> Config:
    return parse_config({"exporter": {"port": exporter},
                         "sources": [{"type": "bmp", "port": station, "routers": ["127.0.0.1"]}]})


def test_local_shards_move_their_bmp_station_as_their_exporter() -> None:
    config = _with_station(9724, 11019)
    assert [own_part(config, LocalShard(i, 3)).sources[0].port for i in range(3)] == [11019, 11020, 11021]
    assert local_port_problems(config, 3) == []


def test_local_shard_ports_that_collide_or_pass_65535_are_config_problems() -> None:
    assert local_port_problems(_with_station(9724, 9725), 2) == [
        "sources[0].port: shard 0 would listen on 9725, as exporter.port + 1 does"]
    assert local_port_problems(_with_station(9724, 65535), 2) == [
        "sources[0].port: 65535 + 1 (the last of 2 local shards) is past 65535"]
