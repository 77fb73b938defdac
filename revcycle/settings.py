"""Configuration from the environment (``REVCYCLE_*``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PayerWorldAddress(BaseModel):
    """The SFTP server of a simulated payer world (``revcycle demo --days`` starts one)."""

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    host_key: str = Field(min_length=1, description="The server's public host key line.")
    password_secret: str = Field("payer-world", description="Name of the secret holding"
                                 " the password of every payer's user.")


TaskRunnerName = Literal["threads", "dask"]
TASK_RUNNERS: tuple[str, ...] = get_args(TaskRunnerName)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVCYCLE_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".revcycle"), description="Working folder: store, database,"
                       " reports.")
    sender_id: str = Field("REVCYCLE", max_length=15,
                           description="Our interchange sender id (ISA06, GS02).")
    sender_qualifier: str = Field("ZZ", min_length=2, max_length=2,
                                  description="ISA05 qualifier of the sender id.")
    usage_indicator: Literal["P", "T"] = Field("T", description="ISA15: P production, T test.")
    submitter_name: str = Field("REVCYCLE BILLING", description="1000A submitter name on"
                                " the 837s we send.")
    submitter_contact: str = Field("BILLING OPERATIONS", description="1000A PER contact name.")
    submitter_phone: str = Field("5555550100", description="1000A PER telephone number.")
    send_lease_s: int = Field(600, ge=1, description="How long a run's claim on a submission"
                              " it is sending holds, in seconds; an older claim is taken over"
                              " (its sender died) and the file resent under the same"
                              " interchange control number. Longer than the slowest send.")
    tenants: list[str] = Field(default_factory=list, description="Tenants a scheduled run"
                               " covers (JSON list); empty: every tenant in the database.")
    database_url: str = Field("", description="SQLAlchemy URL; empty: SQLite file in home"
                              " (PostgreSQL: postgresql+psycopg://user@host/db).")
    store: Literal["local", "s3"] = Field("local", description="Object store: a local folder"
                                          " or an S3 bucket (AWS or S3-compatible).")
    store_root: str = Field("", description="Folder of the local store; empty: <home>/store.")
    s3_bucket: str = Field("", description="Bucket of the S3 store (required with store=s3).")
    s3_endpoint_url: str = Field("", description="Endpoint of an S3-compatible server"
                                 " (MinIO, Ceph, ...); empty: AWS S3.")
    s3_region: str = Field("", description="Region of the bucket; empty: boto3's default.")
    s3_sse: Literal["", "AES256", "aws:kms"] = Field(
        "", description="Server-side encryption asked on every write; empty: bucket default.")
    s3_kms_key_id: str = Field("", description="KMS key id or ARN for s3_sse=aws:kms; empty:"
                               " the account's default key.")
    s3_tenant_kms_keys: dict[str, str] = Field(
        default_factory=dict, description="Per-tenant KMS key ids or ARNs for"
        " s3_sse=aws:kms (JSON object, tenant -> key id): each tenant's objects are"
        " encrypted under its own key; a tenant not named uses s3_kms_key_id.")
    s3_create_bucket: bool = Field(False, description="Create the bucket if it does not"
                                   " exist (local S3-compatible servers).")
    s3_max_attempts: int = Field(4, ge=1, le=10, description="Tries per S3 request,"
                                 " first one included (botocore standard retries).")
    icd10_dir: str = Field("", description="Folder of the ICD-10-CM releases an operator"
                           " adds (CMS icd10cm-codes-YYYY.txt, optional icd10cm-tabular-YYYY.xml)"
                           " for dates of service the packaged April 2026 release does not"
                           " cover; empty: the packaged release only.")
    payer_modules_dir: str = Field("", description="A folder of payer modules an operator"
                                   " adds beside the packaged ones in tasks/payers (one"
                                   " module per payer, as there; a module named like one in"
                                   " another folder disables both); empty: the packaged ones"
                                   " only.")
    reports_url: str = Field("", description="Base URL under which the reports zone is"
                             " served (revcycle serve sets it to its loopback report"
                             " server); empty: links are file:// (local store) or"
                             " presigned (S3).")
    reports_port: int = Field(4210, ge=0, le=65535, description="Port of the report server"
                              " revcycle serve starts on reports_host; 0: none.")
    reports_host: str = Field("127.0.0.1", description="Address the report server listens"
                              " on; loopback by default (reports hold no PHI, but the"
                              " store behind it does).")
    reports_link_expiry_s: int = Field(604800, ge=1, le=604800, description="How long a"
                                       " presigned S3 link to a report works, in seconds"
                                       " (at most 7 days, SigV4's limit).")

    task_runner: TaskRunnerName = Field(
        "threads", description="How the flows run their steps: threads (a thread pool in the"
        " flow's process) or dask (worker processes of a Dask cluster).")
    dask_address: str = Field("", description="Scheduler of an existing Dask cluster"
                              " (tcp://host:8786) for task_runner=dask; empty: a LocalCluster"
                              " started for each flow run.")
    dask_workers: int = Field(2, ge=1, le=64, description="Worker processes of the"
                              " LocalCluster (task_runner=dask, no dask_address).")
    dask_threads_per_worker: int = Field(4, ge=1, le=64, description="Threads in each"
                                         " LocalCluster worker process.")

    handoff_claims: int = Field(25000, ge=0, description="Parsed claims a stage may leave"
                                " in memory for the next stage of the same process to take"
                                " instead of reading them again (about 5 KB each); 0: none.")

    payer_world: PayerWorldAddress | None = Field(
        None, description="A simulated payer world serving the payers whose only channel is"
        " the simulator, over SFTP as user <payer id lower-cased> (JSON: host, port,"
        " host_key, password_secret); unset: the simulator answers at once.")

    @field_validator("task_runner", mode="before")
    @classmethod
    def _known_task_runner(cls, value: object) -> object:
        """Name the variable and the choices, not only the field."""
        if isinstance(value, str) and value.strip().lower() in TASK_RUNNERS:
            return value.strip().lower()
        raise ValueError(f"REVCYCLE_TASK_RUNNER={value!r} is not a task runner: use one of"
                         f" {', '.join(TASK_RUNNERS)}")

    def database_url_or_default(self) -> str:
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.home / 'revcycle.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
