"""The object store: one contract run against the local folder and against S3 (moto over HTTP),
then what is specific to each, and the key functions."""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from revcycle.settings import Settings
from revcycle.storage import (
    InvalidKey,
    KeyParts,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    StorageError,
    TransientStorageError,
    check_key,
    check_name,
    object_key,
    parse_key,
    safe_name,
    shown_key,
    store_from_settings,
    zone_prefix,
)

DAY = date(2024, 5, 1)
BAD_KEYS = ["", "../x", "a/../b", "a/./b", "/abs/key", "a//b", "a/b/", "a/.hidden",
            "a\\b", "a/b\n", "a/\x00b", "k" * 1025]


def new_bucket() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


def s3_store(endpoint: str, **kwargs: object) -> S3ObjectStore:
    return S3ObjectStore(new_bucket(), endpoint_url=endpoint, region="us-east-1",
                         create_bucket=True, **kwargs)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    return s3_store(request.getfixturevalue("s3_endpoint"))


def key(name: str, batch: str = "b1", zone: str = "raw", tenant: str = "acme",
        day: date = DAY) -> str:
    return object_key(tenant, zone, day, batch, name)


# --- the contract ---------------------------------------------------------------------


def test_put_get_exists_size(store: ObjectStore) -> None:
    k = key("a.837")
    assert not store.exists(k)
    store.put(k, b"ISA*00~")
    assert store.exists(k)
    assert store.get(k) == b"ISA*00~"
    assert store.size(k) == 7
    assert store.sha256(k) == hashlib.sha256(b"ISA*00~").hexdigest()


def test_put_overwrites(store: ObjectStore) -> None:
    k = key("a.837")
    store.put(k, b"first version, longer")
    store.put(k, b"second")
    assert store.get(k) == b"second"
    assert store.size(k) == 6
    assert store.list("acme/") == [k]


def test_empty_object(store: ObjectStore) -> None:
    k = key("empty.txt")
    store.put(k, b"")
    assert store.exists(k)
    assert store.get(k) == b""
    assert store.size(k) == 0


def test_list_is_sorted_and_follows_the_prefix(store: ObjectStore) -> None:
    keys = [key("z.837"), key("a.837"), key("c.837", batch="b2"),
            key("x.837", day=date(2024, 5, 2)), key("a.837", tenant="acme2"),
            key("q.837", zone="landing")]
    for k in keys:
        store.put(k, b"x")
    assert store.list("") == sorted(keys)
    assert store.list(zone_prefix("acme", "raw")) == sorted(
        [key("z.837"), key("a.837"), key("c.837", batch="b2"),
         key("x.837", day=date(2024, 5, 2))])
    assert store.list(zone_prefix("acme", "raw", DAY)) == sorted(
        [key("a.837"), key("z.837"), key("c.837", batch="b2")])
    assert store.list(zone_prefix("acme", "raw", DAY, "b1")) == [key("a.837"), key("z.837")]
    assert store.list("acme/raw/2024-05-01/b1/z") == [key("z.837")]  # partial segment
    assert store.list("acme") == sorted(keys)  # a plain string prefix, as on S3
    assert store.list("acme/") == sorted(k for k in keys if not k.startswith("acme2/"))
    assert store.list("nobody/") == []


def test_copy(store: ObjectStore) -> None:
    src, dst = key("a.837", zone="landing"), key("a.837", zone="archive")
    store.put(src, b"payload")
    store.put(dst, b"old destination content")
    store.copy(src, dst)
    assert store.get(dst) == b"payload"
    assert store.get(src) == b"payload"


def test_copy_of_missing_source(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound) as info:
        store.copy(key("missing.837"), key("dst.837"))
    assert "missing.837" in str(info.value)
    assert not store.exists(key("dst.837"))


def test_delete(store: ObjectStore) -> None:
    k = key("a.837")
    store.put(k, b"x")
    store.delete(k)
    assert not store.exists(k)
    assert store.list("acme/") == []
    store.delete(k)  # deleting what is not there is not an error: retries stay safe


@pytest.mark.parametrize("action", ["get", "size"])
def test_missing_object(store: ObjectStore, action: str) -> None:
    k = key("missing.837")
    with pytest.raises(ObjectNotFound) as info:
        getattr(store, action)(k)
    assert info.value.key == k
    assert k in str(info.value)


@pytest.mark.parametrize("action", ["get", "size"])
def test_a_providers_file_name_is_not_in_the_message(store: ObjectStore, action: str) -> None:
    """The name a provider gave a landing file may name the patient; messages and the
    exception's key (which reach logs, the dashboard and pickled results) show a digest
    of it instead."""
    k = key("Jane_Roe_1962-03-04.837", zone="landing")
    with pytest.raises(ObjectNotFound) as info:
        getattr(store, action)(k)
    assert info.value.key == shown_key(k)
    for text in (str(info.value), pickle.dumps(info.value).decode("latin-1")):
        assert "Jane" not in text and "Roe" not in text and "1962" not in text
        assert "acme/landing/2024-05-01/b1/<file " in text


@pytest.mark.parametrize("name", ["Jane\tRoe.837", ".Jane_Roe.837", "Jane/../Roe.837",
                                  "sub folder/.Jane Roe.837", "Jane\udcdcRoe.837"])
def test_an_invalid_landing_key_is_pickled_without_the_providers_name(name: str) -> None:
    k = f"acme/landing/2024-05-01/b1/{name}"
    with pytest.raises(InvalidKey) as info:
        check_key(k)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is InvalidKey and copy.key == info.value.key == shown_key(k)
    for text in (str(info.value), pickle.dumps(info.value).decode("latin-1")):
        assert "Jane" not in text and "Roe" not in text
    assert shown_key(k).startswith("acme/landing/2024-05-01/b1/<file ")


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_bad_keys_are_refused_by_every_method(store: ObjectStore, bad: str) -> None:
    for call in (lambda: store.put(bad, b"x"), lambda: store.get(bad),
                 lambda: store.exists(bad), lambda: store.delete(bad),
                 lambda: store.size(bad), lambda: store.uri(bad),
                 lambda: store.copy(bad, key("ok.837")),
                 lambda: store.copy(key("ok.837"), bad)):
        with pytest.raises(InvalidKey):
            call()


@pytest.mark.parametrize("bad", ["../", "a/../", "/abs", "a//", "a/.h", "a\\b", "a\n"])
def test_bad_prefixes_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidKey):
        store.list(bad)


def test_uri(store: ObjectStore) -> None:
    k = key("a.837")
    uri = store.uri(k)
    if isinstance(store, S3ObjectStore):
        assert uri == f"s3://{store.bucket}/{k}"
    else:
        assert uri.startswith("file:///")
        assert uri.endswith(k)


def test_presigned_url(store: ObjectStore) -> None:
    k = key("page.html", zone="reports")
    store.put(k, b"<p>report</p>")
    url = store.presigned_url(k, 60, "text/html; charset=utf-8")
    if isinstance(store, S3ObjectStore):
        assert url is not None
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=60" in url
        with urllib.request.urlopen(url, timeout=10) as response:  # no credentials sent
            assert response.read() == b"<p>report</p>"
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    else:
        assert url is None  # a folder has no such link: callers fall back to uri()
    with pytest.raises(InvalidKey):
        store.presigned_url("a/../b", 60)


@pytest.mark.parametrize("expires_s", [0, -1, 7 * 24 * 3600 + 1])
def test_s3_presigned_url_lives_at_most_seven_days(s3_endpoint: str, expires_s: int) -> None:
    store = s3_store(s3_endpoint)
    with pytest.raises(StorageError, match="presigned"):
        store.presigned_url(key("a.html", zone="reports"), expires_s)
    assert store.presigned_url(key("a.html", zone="reports"), 7 * 24 * 3600)


# --- local folder ---------------------------------------------------------------------


def all_files(root: Path) -> list[str]:
    return sorted(Path(d, f).relative_to(root).as_posix()
                  for d, _, files in os.walk(root) for f in files)


def test_local_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put(key("a.837"), b"1")
    store.put(key("a.837"), b"2")
    store.copy(key("a.837"), key("b.837"))
    assert all_files(tmp_path) == [key("a.837"), key("b.837")]


def test_local_failed_put_keeps_the_old_object(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalObjectStore(tmp_path)
    k = key("a.837")
    store.put(k, b"old")

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(StorageError) as info:
        store.put(k, b"SECRET-CONTENT")
    assert not isinstance(info.value, ObjectNotFound | TransientStorageError)
    assert "SECRET" not in str(info.value)
    assert k in str(info.value)
    assert store.get(k) == b"old"
    assert all_files(tmp_path) == [k]


def test_local_reader_never_sees_a_partial_object(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    k = key("a.837")
    versions = (b"A" * 200_000, b"B" * 100)
    store.put(k, versions[0])
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(store.get(k))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(150):
            store.put(k, versions[i % 2])
    finally:
        done.set()
        reader.join()
    assert seen <= set(versions)
    assert seen


def test_local_list_skips_unfinished_writes_only(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put(key("a.837"), b"x")
    Path(tmp_path, "acme/raw/2024-05-01/b1/.put-crashed.tmp").write_bytes(b"partial")
    assert store.list("acme/") == [key("a.837")]
    # A provider's dot-named file or folder is listed, and read and removed as listed.
    Path(tmp_path, "acme/raw/2024-05-01/b1/.claims.837").write_bytes(b"dot")
    Path(tmp_path, "acme/raw/2024-05-01/.drop").mkdir()
    Path(tmp_path, "acme/raw/2024-05-01/.drop/tab\there.837").write_bytes(b"tab")
    listed = store.list("acme/")
    assert listed == sorted([key("a.837"), "acme/raw/2024-05-01/b1/.claims.837",
                             "acme/raw/2024-05-01/.drop/tab\there.837"])
    listed.remove(key("a.837"))
    for k in listed:
        with pytest.raises(InvalidKey):
            store.get(k)
        assert store.get_listed(k) in (b"dot", b"tab")
        store.delete_listed(k)
    assert store.list("acme/") == [key("a.837")]
    for bad in ("acme/../outside", "acme//x", "acme/./x", ""):
        with pytest.raises(InvalidKey):
            store.get_listed(bad)


def test_s3_lists_and_reads_keys_it_refuses_to_address(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint)
    weird = ["acme/landing/2024-05-01/", "acme/landing/2024-05-01/b1/tab\tname.837",
             "acme/landing/2024-05-01/b1/../up.837", "acme/landing//abs.837",
             "acme/landing/2024-05-01/b1/.dot.837"]
    for number, k in enumerate(weird):
        store._client.put_object(Bucket=store.bucket, Key=k, Body=str(number).encode())
    assert store.list("acme/landing/") == sorted(weird)
    for number, k in enumerate(weird):
        with pytest.raises(InvalidKey):
            store.get(k)
        assert store.get_listed(k) == str(number).encode()
        store.delete_listed(k)
    assert store.list("acme/landing/") == []


def test_local_symlink_out_of_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"x")
    root = tmp_path / "store"
    store = LocalObjectStore(root)
    (root / "acme").symlink_to(outside)
    with pytest.raises(InvalidKey):
        store.get("acme/secret")
    with pytest.raises(InvalidKey):
        store.list("acme/")


def test_local_key_under_an_object_is_a_storage_error(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("acme/a", b"x")
    with pytest.raises(StorageError) as info:
        store.put("acme/a/b", b"SECRET")
    assert not isinstance(info.value, ObjectNotFound)
    assert "SECRET" not in str(info.value)
    assert not store.exists("acme/a/b")
    with pytest.raises(ObjectNotFound):
        store.get("acme/a/b")
    store.delete("acme/a/b")  # nothing there: no error
    store.delete("acme")  # a folder is not an object: no error, nothing removed
    assert store.get("acme/a") == b"x"


# --- S3 -------------------------------------------------------------------------------


def test_s3_bucket_creation_is_idempotent(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint)
    store.put("acme/a", b"x")
    again = S3ObjectStore(store.bucket, endpoint_url=s3_endpoint, region="us-east-1",
                          create_bucket=True)
    assert again.get("acme/a") == b"x"


@pytest.mark.parametrize(("sse", "kms_key_id"), [("AES256", None),
                                                  ("aws:kms", "alias/revcycle-test")])
def test_s3_server_side_encryption_is_requested(s3_endpoint: str, sse: str,
                                                kms_key_id: str | None) -> None:
    store = s3_store(s3_endpoint, server_side_encryption=sse, kms_key_id=kms_key_id)
    store.put(key("a.837"), b"x")
    store.copy(key("a.837"), key("b.837"))
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for k in (key("a.837"), key("b.837")):
        head = client.head_object(Bucket=store.bucket, Key=k)
        assert head["ServerSideEncryption"] == sse
        if kms_key_id:
            assert kms_key_id in head["SSEKMSKeyId"]


def test_s3_plain_store_requests_no_encryption(s3_endpoint: str) -> None:
    store = s3_store(s3_endpoint)
    store.put(key("a.837"), b"x")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    assert "ServerSideEncryption" not in client.head_object(Bucket=store.bucket,
                                                            Key=key("a.837"))


@pytest.mark.parametrize(("sse", "kms_key_id"), [("AES128", None), (None, "key"),
                                                  ("AES256", "key")])
def test_s3_bad_encryption_settings(sse: str | None, kms_key_id: str | None) -> None:
    with pytest.raises(StorageError):
        S3ObjectStore("bucket", server_side_encryption=sse, kms_key_id=kms_key_id,
                      client=object())


def test_s3_missing_bucket_is_not_a_missing_object(s3_endpoint: str) -> None:
    store = S3ObjectStore(new_bucket(), endpoint_url=s3_endpoint, region="us-east-1")
    with pytest.raises(StorageError) as info:
        store.put(key("a.837"), b"SECRET-CONTENT")
    assert not isinstance(info.value, ObjectNotFound | TransientStorageError)
    assert "NoSuchBucket" in str(info.value)
    assert "SECRET" not in str(info.value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_s3_unreachable_endpoint_is_transient_after_retries(s3_endpoint: str) -> None:
    # s3_endpoint: for its fake credentials only.
    store = S3ObjectStore("bucket", endpoint_url=f"http://127.0.0.1:{closed_port()}",
                          region="us-east-1", max_attempts=2, connect_timeout=1)
    attempts = []
    store._client.meta.events.register("before-send.s3.*", lambda **kw: attempts.append(1))
    with pytest.raises(TransientStorageError) as info:
        store.get(key("a.837"))
    assert isinstance(info.value.__cause__, Exception)
    assert type(info.value.__cause__).__name__ == "EndpointConnectionError"
    assert key("a.837") in str(info.value)
    assert len(attempts) == 2


@pytest.fixture
def stubbed() -> Iterator[tuple[S3ObjectStore, Stubber]]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x",
                          config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with Stubber(client) as stubber:
        yield S3ObjectStore("bucket", client=client), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("SlowDown", 503, TransientStorageError),
    ("InternalError", 500, TransientStorageError),
    ("ServiceUnavailable", 503, TransientStorageError),
    ("RequestTimeout", 400, TransientStorageError),
    ("TooManyRequests", 429, TransientStorageError),
    ("BadGateway", 502, TransientStorageError),
    ("NoSuchKey", 404, ObjectNotFound),
    ("AccessDenied", 403, StorageError),
    ("NoSuchBucket", 404, StorageError),
])
def test_s3_client_errors_are_mapped(stubbed: tuple[S3ObjectStore, Stubber], code: str,
                                     status: int, expected: type[StorageError]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_object", service_error_code=code, http_status_code=status)
    with pytest.raises(StorageError) as info:
        store.get(key("a.837"))
    assert type(info.value) is expected
    assert code in str(info.value) or expected is ObjectNotFound


def test_s3_head_404_means_missing(stubbed: tuple[S3ObjectStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    assert store.exists(key("a.837")) is False


def test_s3_list_follows_pages(stubbed: tuple[S3ObjectStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_response("list_objects_v2",
                         {"IsTruncated": True, "NextContinuationToken": "t1",
                          "Contents": [{"Key": "acme/c"}, {"Key": "acme/d"}]},
                         {"Bucket": "bucket", "Prefix": "acme/"})
    stubber.add_response("list_objects_v2",
                         {"IsTruncated": False, "Contents": [{"Key": "acme/a"}]},
                         {"Bucket": "bucket", "Prefix": "acme/", "ContinuationToken": "t1"})
    assert store.list("acme/") == ["acme/a", "acme/c", "acme/d"]


# --- settings -------------------------------------------------------------------------


def test_default_store_is_a_folder_in_home(tmp_path: Path) -> None:
    store = store_from_settings(Settings(home=tmp_path, _env_file=None))
    assert isinstance(store, LocalObjectStore)
    assert store.root == (tmp_path / "store").resolve()
    custom = store_from_settings(Settings(home=tmp_path, store_root=str(tmp_path / "elsewhere"),
                                          _env_file=None))
    assert custom.root == (tmp_path / "elsewhere").resolve()


def test_s3_store_from_environment(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = new_bucket()
    for name, value in {"STORE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
                        "S3_REGION": "us-east-1", "S3_SSE": "AES256",
                        "S3_CREATE_BUCKET": "true", "S3_MAX_ATTEMPTS": "2"}.items():
        monkeypatch.setenv(f"REVCYCLE_{name}", value)
    store = store_from_settings(Settings(_env_file=None))
    assert isinstance(store, S3ObjectStore)
    store.put(key("a.837"), b"x")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    head = client.head_object(Bucket=bucket, Key=key("a.837"))
    assert head["ServerSideEncryption"] == "AES256"


def test_s3_store_needs_a_bucket() -> None:
    with pytest.raises(StorageError, match="REVCYCLE_S3_BUCKET"):
        store_from_settings(Settings(store="s3", s3_bucket="", _env_file=None))


# --- keys -----------------------------------------------------------------------------


def test_object_key_and_parse_key() -> None:
    k = object_key("acme", "landing", DAY, "batch_01", "claims-2024.837")
    assert k == "acme/landing/2024-05-01/batch_01/claims-2024.837"
    parts = parse_key(k)
    assert parts == KeyParts("acme", "landing", DAY, "batch_01", "claims-2024.837")
    assert parts.key == k


@pytest.mark.parametrize("tenant", ["", "a/b", "a b", "..", "t" * 65, "é", None])
def test_bad_tenants_and_batches(tenant: object) -> None:
    with pytest.raises(InvalidKey):
        object_key(tenant, "raw", DAY, "b1", "f")  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        object_key("acme", "raw", DAY, tenant, "f")  # type: ignore[arg-type]


def test_bad_zone_and_date() -> None:
    with pytest.raises(InvalidKey, match="zone"):
        object_key("acme", "tmp", DAY, "b1", "f")
    with pytest.raises(InvalidKey, match="date"):
        object_key("acme", "raw", datetime(2024, 5, 1, 12), "b1", "f")
    with pytest.raises(InvalidKey, match="date"):
        object_key("acme", "raw", "2024-05-01", "b1", "f")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [
    "", "a/b", "a\\b", "..", "../etc", "a..b", ".hidden", "SMITH\x00JOHN", "SMITH\nJOHN",
    "SMITH\u200bJOHN", " SMITH", "SMITH ", "S" * 201, "é" * 130,
])
def test_bad_names_are_refused_without_being_repeated(name: str) -> None:
    with pytest.raises(InvalidKey) as info:
        object_key("acme", "landing", DAY, "b1", name)
    assert "SMITH" not in str(info.value)


@pytest.mark.parametrize("name", ["a", "claims 2024.837", "Ünïcode_file.txt", "a.b.c",
                                  "-dash", "x" * 200])
def test_good_names(name: str) -> None:
    assert parse_key(object_key("acme", "landing", DAY, "b1", name)).name == name


def test_zone_prefix() -> None:
    assert zone_prefix("acme", "landing") == "acme/landing/"
    assert zone_prefix("acme", "landing", DAY) == "acme/landing/2024-05-01/"
    assert zone_prefix("acme", "landing", DAY, "b1") == "acme/landing/2024-05-01/b1/"
    with pytest.raises(InvalidKey):
        zone_prefix("acme", "landing", batch="b1")
    with pytest.raises(InvalidKey):
        zone_prefix("acme", "nowhere")


@pytest.mark.parametrize("bad", [
    "acme/raw/2024-05-01/b1", "acme/raw/2024-05-01/b1/f/g", "acme/raw/20240501/b1/f",
    "acme/raw/2024-13-01/b1/f", "acme/tmp/2024-05-01/b1/f", "acme/raw/2024-05-01/b1/.f",
    "a cme/raw/2024-05-01/b1/f",
])
def test_parse_key_refuses(bad: str) -> None:
    with pytest.raises(InvalidKey) as info:
        parse_key(bad)
    assert info.value.key == bad


@pytest.mark.parametrize(("original", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\claims 1.837", "claims_1.837"),
    (".bashrc", "bashrc"),
    ("...", "unnamed"),
    ("", "unnamed"),
    ("a..b", "a.b"),
    ("réçu 05/01.csv", "01.csv"),
    ("réçu.csv", "r_u.csv"),
])
def test_safe_name(original: str, expected: str) -> None:
    assert safe_name(original) == expected


def test_safe_name_shortens_keeping_the_extension() -> None:
    name = safe_name("c" * 500 + ".837")
    assert len(name) == 200
    assert name.endswith("c.837")


@given(st.text(max_size=400))
def test_safe_name_is_always_accepted(original: str) -> None:
    check_name(safe_name(original))
