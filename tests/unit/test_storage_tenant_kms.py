"""Each tenant's objects under its own KMS key (``REVCYCLE_S3_TENANT_KMS_KEYS``), on the
moto S3 server: every write of a tenant's key (puts and copies) names the tenant's key;
a tenant not named gets the store's default key."""

from __future__ import annotations

from datetime import date

import boto3
import pytest

from revcycle.settings import Settings
from revcycle.storage import S3ObjectStore, StorageError, object_key, store_from_settings
from tests.unit.test_storage import new_bucket

DAY = date(2026, 11, 2)


def _kms_key(endpoint: str) -> str:
    kms = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1")
    return str(kms.create_key(Description="revcycle test tenant key")["KeyMetadata"]["Arn"])


def _key_id(endpoint: str, bucket: str, key: str) -> str:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    return str(head["SSEKMSKeyId"])


def test_each_tenant_writes_under_its_own_kms_key(s3_endpoint: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, bravo, default = (_kms_key(s3_endpoint) for _ in range(3))
    bucket = new_bucket()
    for name, value in {"STORE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
                        "S3_REGION": "us-east-1", "S3_CREATE_BUCKET": "true",
                        "S3_SSE": "aws:kms", "S3_KMS_KEY_ID": default,
                        "S3_TENANT_KMS_KEYS": f'{{"alpha": "{alpha}", "bravo": "{bravo}"}}'
                        }.items():
        monkeypatch.setenv(f"REVCYCLE_{name}", value)
    store = store_from_settings(Settings())
    keys = {tenant: object_key(tenant, "raw", DAY, f"{tenant}-20261102", "a.837")
            for tenant in ("alpha", "bravo", "charlie")}
    for key in keys.values():
        store.put(key, b"ISA*...")
    copied = object_key("bravo", "quarantine", DAY, "bravo-20261102", "a.837")
    store.copy(keys["bravo"], copied)

    assert _key_id(s3_endpoint, bucket, keys["alpha"]) == alpha
    assert _key_id(s3_endpoint, bucket, keys["bravo"]) == bravo
    assert _key_id(s3_endpoint, bucket, copied) == bravo
    assert _key_id(s3_endpoint, bucket, keys["charlie"]) == default  # no key of its own


def test_tenant_kms_keys_need_kms_encryption() -> None:
    with pytest.raises(StorageError, match="aws:kms"):
        S3ObjectStore("b", server_side_encryption="AES256",
                      tenant_kms_key_ids={"alpha": "arn:aws:kms:us-east-1:1:key/x"},
                      client=object())
