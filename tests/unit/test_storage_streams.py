"""Streaming reads and writes of the object store, on the local folder and on S3 (moto)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from revcycle.storage import STREAM_CHUNK, LocalObjectStore, ObjectNotFound, ObjectStore
from tests.unit.test_storage import key, s3_store

BIG = bytes(range(256)) * (3 * STREAM_CHUNK // 256 + 7)  # more than three chunks


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    return s3_store(request.getfixturevalue("s3_endpoint"))


def test_put_stream_then_open_listed_reads_it_back_in_chunks(store: ObjectStore) -> None:
    store.put_stream(key("big.x12"), io.BytesIO(BIG))

    chunks = []
    with store.open_listed(key("big.x12")) as reading:
        while chunk := reading.read(STREAM_CHUNK):
            chunks.append(chunk)

    assert b"".join(chunks) == BIG == store.get(key("big.x12"))
    assert len(chunks) == 4 and store.size(key("big.x12")) == len(BIG)


def test_put_stream_writes_the_rest_of_the_source(store: ObjectStore) -> None:
    source = io.BytesIO(b"skipped|kept")
    source.seek(8)
    store.put_stream(key("rest"), source)
    assert store.get(key("rest")) == b"kept"


def test_open_listed_of_a_missing_object(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.open_listed(key("missing"))


def test_local_open_listed_is_the_file_itself(tmp_path: Path) -> None:
    """The folder store hands out the file, not a copy of its bytes in memory."""
    store = LocalObjectStore(tmp_path / "store")
    store.put(key("a"), b"abc")
    with store.open_listed(key("a")) as reading:
        assert isinstance(reading, io.BufferedReader)
        assert Path(reading.name) == tmp_path / "store" / key("a")
