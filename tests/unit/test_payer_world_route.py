"""``REVCYCLE_PAYER_WORLD``: the simulator's payers reach a payer world over SFTP; unset,
every payer's route is what its module says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from revcycle.channels import ChannelSpec
from revcycle.channels.sftp import SftpChannel
from revcycle.channels.simulator import SimulatorChannel
from revcycle.payers import PayerDefinition
from revcycle.settings import PayerWorldAddress, get_settings
from revcycle.storage import LocalObjectStore
from tasks.channels import in_payer_world, payer_route

SIMULATED = PayerDefinition(payer_id="SIMA1", name="SIMULATED MEDICARE", receiver_id="SIMA1")
BY_SFTP = PayerDefinition(payer_id="ACME1", name="ACME HEALTH", receiver_id="ACME1", channels=(
    ChannelSpec("sftp", {"host": "sftp.acme.example", "user": "us", "password_secret": "a",
                         "host_key": "ssh-ed25519 AAAA"}),))
WORLD = {"host": "127.0.0.1", "port": 2222, "host_key": "ssh-ed25519 AAAAC3Nza"}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("REVCYCLE_PAYER_WORLD", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("settings")
def test_unset_leaves_every_route_as_its_module_says(tmp_path: Path) -> None:
    assert get_settings().payer_world is None
    assert in_payer_world(SIMULATED, None) is SIMULATED
    route = payer_route(SIMULATED, LocalObjectStore(tmp_path))
    assert [type(c) for c in route.channels] == [SimulatorChannel]


@pytest.mark.usefixtures("settings")
def test_set_it_gives_the_simulators_payers_an_sftp_route_to_the_world(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVCYCLE_PAYER_WORLD", json.dumps(WORLD))
    get_settings.cache_clear()
    world = get_settings().payer_world
    assert world == PayerWorldAddress(**WORLD) and world.password_secret == "payer-world"
    [channel] = payer_route(SIMULATED, LocalObjectStore(tmp_path)).channels
    assert isinstance(channel, SftpChannel) and channel.label == "payer-world"
    assert (channel.options.host, channel.options.port, channel.options.user) == (
        "127.0.0.1", 2222, "sima1")
    assert channel.options.password_secret == "payer-world"
    assert in_payer_world(BY_SFTP, world) is BY_SFTP  # a payer with a real channel: as is
