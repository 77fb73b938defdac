"""A payer module's channel list is checked when it loads: each problem names the field."""

from __future__ import annotations

from datetime import date

import pytest

from revcycle.channels import ChannelSpec, Delivery, parse_options
from revcycle.channels.base import remote_name
from revcycle.channels.options import ChannelOptionsError, SftpOptions
from revcycle.payers import PayerDefinition, definition_problems

SFTP = {"host": "sftp.example.test", "user": "revcycle", "password_secret": "acme-sftp",
        "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleOnlyKeyForTests"}
HTTPS = {"base_url": "https://api.example.test/v1", "token_secret": "acme-api"}


def _problems(*specs: ChannelSpec, **fields: object) -> list[str]:
    return definition_problems(PayerDefinition("ACME1", "ACME", "ACME1", channels=specs,
                                               **fields))


def test_a_good_list_in_priority_order_has_no_problem() -> None:
    assert _problems(ChannelSpec("sftp", SFTP), ChannelSpec("https", HTTPS)) == []
    options = parse_options(ChannelSpec("sftp", {**SFTP, "port": 2222, "retries": 5}))
    assert isinstance(options, SftpOptions) and (options.port, options.retries) == (2222, 5)
    assert parse_options(ChannelSpec("https", {**HTTPS, "timeout_s": 5})).timeout_s == 5.0


@pytest.mark.parametrize(("spec", "expected"), [
    (ChannelSpec("ftp"), "field channels[0].kind: unknown channel 'ftp'"),
    (ChannelSpec("sftp", {**SFTP, "hostname": "x"}), "sftp has no option 'hostname'"),
    (ChannelSpec("sftp", {k: v for k, v in SFTP.items() if k != "host"}), "host is required"),
    (ChannelSpec("sftp", {**SFTP, "port": "22"}), "channels[0].options.port: must be int"),
    (ChannelSpec("sftp", {**SFTP, "port": True}), "options.port: must be int, not bool"),
    (ChannelSpec("sftp", {**SFTP, "acknowledge": "keep"}), "must be one of"),
    (ChannelSpec("sftp", {k: v for k, v in SFTP.items() if k != "host_key"}),
     "known_hosts or host_key is required"),
    (ChannelSpec("sftp", {**SFTP, "key_file": "/keys/id"}), "exactly one of key_file"),
    (ChannelSpec("sftp", {**SFTP, "name_pattern": "{payer}.837"}), "must include {icn}"),
    (ChannelSpec("sftp", {**SFTP, "name_pattern": "{icn}_{now}.837"}), "unknown fields"),
    (ChannelSpec("sftp", {**SFTP, "retries": -1}), "retries must not be negative"),
    (ChannelSpec("https", {**HTTPS, "base_url": "http://api.example.test"}),
     "must be https://"),
    (ChannelSpec("https", {"base_url": "https://x.test"}), "token_secret is required"),
    (ChannelSpec("https", {**HTTPS, "client_cert": "/c.pem"}), "go together"),
])
def test_each_problem_names_the_field(spec: ChannelSpec, expected: str) -> None:
    problems = _problems(spec)
    assert len(problems) == 1 and expected in problems[0], problems
    with pytest.raises(ChannelOptionsError):
        parse_options(spec)


def test_the_list_itself_is_checked() -> None:
    assert _problems() == ["field channels: lists no channel"]
    assert "share a label" in _problems(ChannelSpec("sftp", SFTP), ChannelSpec("sftp", SFTP))[0]
    assert _problems(ChannelSpec("sftp", SFTP), ChannelSpec("sftp", SFTP, label="backup")) == []
    assert "usage_indicator" in _problems(ChannelSpec("simulator"), usage_indicator="X")[0]


def test_a_remote_name_comes_from_the_delivery_alone() -> None:
    """A retry must find the first attempt's name: no clock, only the delivery."""
    delivery = Delivery("eastgate", date(2026, 12, 7), "eastgate-2026-12-07", "000000042")
    pattern = "RC_{payer}_{date}_{icn}.x12"
    assert remote_name(pattern, delivery, "ACME1") == "RC_ACME1_20261207_000000042.x12"


def test_the_readmes_connecting_a_payer_examples_load() -> None:
    """The worked SFTP module and the HTTPS channel of the README, as written there."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Connecting a payer"):readme.index("## Configuration")]
    module, https = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict[str, object] = {}
    exec(module, namespace)
    payer = namespace["PAYER"]
    assert isinstance(payer, PayerDefinition) and definition_problems(payer) == []
    assert [spec.kind for spec in payer.channels] == ["sftp", "https"]
    spec = eval(https.strip().rstrip(","), {"ChannelSpec": ChannelSpec})
    assert _problems(spec) == []
