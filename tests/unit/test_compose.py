"""infra/compose.yaml, the team install: valid against the Compose Specification schema, and
consistent with the rest of the project where a schema cannot look (services named in
``depends_on``, the worker's REVCYCLE_* settings, the work pool of infra/prefect.yaml, ports,
secrets, the image). No container engine runs here: this is what can be checked without one.

The schema is the Compose Specification's JSON schema as the docker-compose 1.29.2 wheel on
PyPI carries it (``compose/config/compose_spec.json``): the wheel is downloaded once into
pytest's cache, checked against its known sha256 and read, never installed. Without PyPI the
schema tests skip with the reason, and fail under CI=true. That schema is the 2021 one: it
rejects keys added since (a top-level ``name``, healthcheck ``start_interval``,
``depends_on``'s ``required``), so the file uses none, and the project name comes from
``COMPOSE_PROJECT_NAME`` in infra/.env.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy.engine import make_url

from revcycle.settings import Settings
from tests.conftest import REPO, require_service

INFRA = REPO / "infra"
COMPOSE = INFRA / "compose.yaml"
ENV_EXAMPLE = INFRA / ".env.example"
DOCKERFILE = INFRA / "Dockerfile"

SCHEMA_REQUIREMENT = "docker-compose==1.29.2"
SCHEMA_WHEEL = "docker_compose-1.29.2-py2.py3-none-any.whl"
SCHEMA_WHEEL_SHA256 = "8d5589373b35c8d3b1c8c1182c6e4a4ff14bffa3dd0b605fcd08f73c94cef809"
SCHEMA_MEMBER = "compose/config/compose_spec.json"

SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY")
# Compose interpolation: $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
# ${NAME?error}, ${NAME:+other}, ${NAME+other}, $NAME.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(Exception):
    """A ``${NAME:?...}`` (or ``${NAME?...}``) whose variable is not set."""


# --- helpers ------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    """The compose file as compose reads it before interpolation (YAML merges resolved)."""
    return yaml.safe_load(path.read_text())


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def references(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every interpolated variable in the file's values, with its operator ('' for none)."""
    found = []
    for text in _strings(doc):
        for m in _INTERPOLATION.finditer(text):
            if m["escaped"]:
                continue
            found.append((m["braced"] or m["named"], m["op"] or ""))
    return found


def _substitute(text: str, env: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name, op, arg = m["braced"] or m["named"], m["op"] or "", m["arg"] or ""
        value = env.get(name)
        present = value is not None and (value != "" or not op.startswith(":"))
        if op.endswith("-"):
            return value if present else arg  # type: ignore[return-value]
        if op.endswith("?"):
            if not present:
                raise MissingVariable(f"{name}: {arg}")
            return value  # type: ignore[return-value]
        if op.endswith("+"):
            return arg if present else ""
        return value or ""

    return _INTERPOLATION.sub(one, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """The document with every value interpolated from ``env`` as compose does."""
    if isinstance(node, str):
        return _substitute(node, env)
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    return node


def example_env() -> dict[str, str]:
    """infra/.env.example's settings, with a made-up value for each required secret."""
    env = {}
    for name, value in documented_variables().items():
        if value is not None:
            env[name] = value or f"example-{name.lower().replace('_', '-')}"
    return env


def documented_variables() -> dict[str, str | None]:
    """Variables infra/.env.example names: set ones with their value, commented-out
    optional ones with None."""
    found: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            found[m[2]] = None if m[1] else m[3]
    return found


def schema_errors(doc: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What the Compose Specification schema says is wrong with ``doc``, one line each."""
    validator = jsonschema.Draft201909Validator(schema)
    return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                  for e in validator.iter_errors(doc))


def ports_off_loopback(doc: dict[str, Any]) -> list[str]:
    """Published ports that are not bound to 127.0.0.1."""
    wrong = []
    for name, service in doc["services"].items():
        for port in service.get("ports", []):
            host_ip = (port.get("host_ip", "") if isinstance(port, dict)
                       else str(port).split(":")[0] if str(port).count(":") == 2 else "")
            if host_ip != "127.0.0.1":
                wrong.append(f"{name}: {port}")
        if service.get("network_mode") == "host":
            wrong.append(f"{name}: network_mode host")
    return wrong


def dependency_problems(doc: dict[str, Any]) -> list[str]:
    """``depends_on`` entries naming no service, waiting on the health of a service without
    a healthcheck, or on the completion of a service that restarts (so never completes)."""
    services = doc["services"]
    problems = []
    for name, service in services.items():
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            depends = {target: {"condition": "service_started"} for target in depends}
        for target, spec in depends.items():
            if target not in services:
                problems.append(f"{name} depends on {target}, which is no service")
                continue
            condition = spec.get("condition")
            if condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name} waits on the health of {target}, which has no check")
            if (condition == "service_completed_successfully"
                    and services[target].get("restart", "no") != "no"):
                problems.append(f"{name} waits on {target} to complete, but it restarts")
    return problems


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a process with exactly these REVCYCLE_* variables reads (no .env)."""
    for name in list(os.environ):
        if name.startswith("REVCYCLE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("REVCYCLE_"):
            monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


# --- the schema ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def compose_schema(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Compose Specification JSON schema, from the docker-compose 1.29.2 wheel."""
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    folder = (Path(cache.mkdir("compose-spec")) if cache is not None
              else tmp_path_factory.mktemp("compose-spec"))
    wheel = folder / SCHEMA_WHEEL
    if not wheel.is_file():
        # Into a folder of its own, then moved: two sessions at once never read half a file.
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--disable-pip-version-check", "--timeout", "20", "--retries", "1",
                 "-d", scratch, SCHEMA_REQUIREMENT],
                capture_output=True, text=True, timeout=300, check=False)
            fetched = Path(scratch) / SCHEMA_WHEEL
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            require_service(done.returncode == 0 and fetched.is_file(),
                            f"could not download {SCHEMA_REQUIREMENT} from PyPI for the"
                            f" Compose Specification schema: {last}")
            os.replace(fetched, wheel)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert digest == SCHEMA_WHEEL_SHA256, f"{wheel} is not the wheel expected (sha256 {digest})"
    with zipfile.ZipFile(wheel) as archive:
        schema = json.loads(archive.read(SCHEMA_MEMBER))
    # The draft it names, written with http: and a '#', which jsonschema does not look up.
    assert "draft/2019-09" in schema["$schema"]
    jsonschema.Draft201909Validator.check_schema(schema)
    return schema


def test_the_compose_file_is_valid_compose(compose_schema: dict[str, Any]) -> None:
    doc = load_compose()
    assert "version" not in doc  # the Compose Specification has no version
    assert schema_errors(doc, compose_schema) == []
    # And as compose sees it once infra/.env's values are put in.
    assert schema_errors(interpolate(doc, example_env()), compose_schema) == []


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["services"]["worker"].update(helthcheck={}), "services/worker: 'helthcheck'"),
    (lambda d: d["services"]["worker"]["depends_on"]["deploy"].update(condition="done"),
     "services/worker/depends_on: "),
    (lambda d: d["services"]["worker"]["environment"].update(REVCYCLE_S3_CREATE_BUCKET=True),
     "services/worker/environment: "),
    (lambda d: d["services"]["minio"].update(ports="127.0.0.1:9000:9000"),
     "services/minio/ports: '127.0.0.1:9000:9000' is not of type 'array'"),
    (lambda d: d.update(servics={}), "<root>: 'servics'"),
], ids=["misspelt key", "unknown condition", "boolean env value", "ports not a list",
        "unknown top-level key"])
def test_the_schema_check_catches_a_broken_file(compose_schema: dict[str, Any], change: Any,
                                                expected: str) -> None:
    doc = copy.deepcopy(load_compose())
    change(doc)
    errors = schema_errors(doc, compose_schema)
    assert any(error.startswith(expected) for error in errors), errors
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, compose_schema, cls=jsonschema.Draft201909Validator)


# --- what the schema cannot see -----------------------------------------------------------


def test_every_dependency_is_a_service_that_can_satisfy_it() -> None:
    doc = load_compose()
    assert dependency_problems(doc) == []
    worker = doc["services"]["worker"]["depends_on"]
    assert worker["deploy"]["condition"] == "service_completed_successfully"
    assert worker["postgres"]["condition"] == "service_healthy"
    # The check itself can fail.
    broken = copy.deepcopy(doc)
    broken["services"]["worker"]["depends_on"]["redis"] = {"condition": "service_healthy"}
    broken["services"]["deploy"]["restart"] = "unless-stopped"
    assert len(dependency_problems(broken)) == 2


def test_the_worker_has_every_setting_it_needs_and_only_real_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    doc = interpolate(load_compose(), example_env())
    services = doc["services"]
    env = _environment(services["worker"])
    fields = {f"REVCYCLE_{name.upper()}" for name in Settings.model_fields}
    unknown = {name for name in env if name.startswith("REVCYCLE_")} - fields
    assert not unknown, f"not settings of revcycle (Settings ignores them): {unknown}"

    settings = settings_from(env, monkeypatch)
    assert settings.store == "s3" and settings.s3_create_bucket is True
    database = make_url(settings.database_url)
    assert database.drivername == "postgresql+psycopg"
    assert (database.host, database.database) == ("postgres", "revcycle")
    assert database.host in services
    endpoint = make_url(settings.s3_endpoint_url)
    assert endpoint.host == "minio" and endpoint.host in services
    assert endpoint.port == 9000  # MinIO's S3 API, the port it publishes
    assert any(str(port).endswith(":9000") for port in services["minio"]["ports"])
    # One bucket, one set of credentials, for the store, its server and the one-shot.
    bucket_job = _environment(services["create-bucket"])
    assert settings.s3_bucket == bucket_job["S3_BUCKET"]
    minio = _environment(services["minio"])
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert env["PREFECT_LOGGING_LEVEL"] == "INFO"  # task logs reach the dashboard


def test_optional_settings_default_to_what_revcycle_defaults_to(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # infra/.env with the secrets only: every optional REVCYCLE_* the worker passes on must
    # mean what leaving it unset means to revcycle.
    secrets_only = {name: value for name, value in example_env().items()
                    if SECRET_NAME.search(name)}
    raw = _environment(load_compose()["services"]["worker"])
    env = _environment(interpolate(load_compose(), secrets_only)["services"]["worker"])
    settings = settings_from(env, monkeypatch)
    optional = [name for name, value in raw.items()
                if name.startswith("REVCYCLE_") and f"${{{name}:-" in value]
    assert optional, "the worker passes no optional setting on"
    for name in optional:
        field = name.removeprefix("REVCYCLE_").lower()
        default = Settings.model_fields[field].get_default(call_default_factory=True)
        assert getattr(settings, field) == default, name


def test_the_work_pool_and_deployments_are_those_of_prefect_yaml() -> None:
    doc = load_compose()
    prefect_yaml = yaml.safe_load((INFRA / "prefect.yaml").read_text())
    pools = {entry["work_pool"]["name"] for entry in prefect_yaml["deployments"]}
    assert len(pools) == 1
    pool = pools.pop()

    worker = shlex.split(_command(doc["services"]["worker"]))
    assert worker[:3] == ["prefect", "worker", "start"]
    assert worker[worker.index("--pool") + 1] == pool
    assert worker[worker.index("--type") + 1] == "process"

    deploy = doc["services"]["deploy"]
    script = _command(deploy)
    assert f"prefect work-pool create {pool} --type process" in script
    assert "prefect --no-prompt deploy --all --prefect-file infra/prefect.yaml" in script
    # The same two steps as `make deploy`.
    makefile = (REPO / "Makefile").read_text()
    assert f"prefect work-pool create {pool} --type process --overwrite" in makefile
    # infra/prefect.yaml's pull step sends workers to REVCYCLE_CHECKOUT: the image's checkout.
    assert "$REVCYCLE_CHECKOUT" in (INFRA / "prefect.yaml").read_text()
    workdir = re.findall(r"^WORKDIR\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert _environment(deploy)["REVCYCLE_CHECKOUT"] == workdir[-1]


def test_published_ports_are_on_loopback_only() -> None:
    doc = interpolate(load_compose(), example_env())
    assert ports_off_loopback(doc) == []
    assert any(service.get("ports") for service in doc["services"].values())
    server = doc["services"]["prefect-server"]
    published = server["ports"][0].split(":")[1]
    assert _environment(server)["PREFECT_UI_API_URL"] == f"http://127.0.0.1:{published}/api"
    broken = copy.deepcopy(doc)
    broken["services"]["minio"]["ports"] += ["9002:9002", "0.0.0.0:9003:9003",
                                             {"target": 9004, "published": 9004}]
    assert len(ports_off_loopback(broken)) == 3


def test_secrets_are_required_and_every_variable_is_documented() -> None:
    doc = load_compose()
    refs = references(doc)
    documented = documented_variables()
    undocumented = {name for name, _ in refs} - set(documented)
    assert not undocumented, f"not in infra/.env.example: {undocumented}"
    secrets = {name for name, _ in refs if SECRET_NAME.search(name)}
    assert {"POSTGRES_PASSWORD", "PREFECT_DB_PASSWORD", "REVCYCLE_DB_PASSWORD",
            "S3_SECRET_KEY"} <= secrets
    for name, op in refs:
        if name in secrets:
            assert op == ":?", f"${{{name}}} must be required (:?), with no default"
            assert documented[name] == "", f"{name} has a value in infra/.env.example"
    # No secret is written into the file itself.
    for service in doc["services"].values():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert value.startswith("${"), f"{key} is not interpolated"
    # Without one of them, compose stops and names it.
    for name in secrets:
        env = {k: v for k, v in example_env().items() if k != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(doc, env)


def test_the_image_installs_the_checkout() -> None:
    doc = load_compose()
    for name in ("prefect-server", "deploy", "worker"):
        build = doc["services"][name]["build"]
        context = (INFRA / build["context"]).resolve()
        assert context == REPO and (context / build["dockerfile"]).resolve() == DOCKERFILE
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"^COPY\b.*\s\.\s+\.$", dockerfile, re.MULTILINE)
    # Editable: the data-quality suites live beside the package in the checkout, not in it,
    # so a plain `pip install .` would leave the quality stage without them.
    assert re.search(r"^RUN pip install\b.*\s-e \.$", dockerfile, re.MULTILINE)
    from revcycle.pipeline.quality import SUITES

    assert SUITES.parent == REPO and not SUITES.is_relative_to(REPO / "revcycle")
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)  # not root
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".revcycle", "**/.env", ".git"} <= set(ignored)


def test_postgres_init_makes_the_databases_the_services_use() -> None:
    doc = interpolate(load_compose(), example_env())
    postgres = doc["services"]["postgres"]
    mounts = [v.split(":") for v in postgres["volumes"] if v.startswith("./")]
    assert len(mounts) == 1 and mounts[0][1].startswith("/docker-entrypoint-initdb.d/")
    script = INFRA / mounts[0][0]
    assert script.is_file() and os.access(script, os.X_OK)
    sql = script.read_text()
    urls = [_environment(doc["services"]["prefect-server"])["PREFECT_API_DATABASE_CONNECTION_URL"],
            _environment(doc["services"]["worker"])["REVCYCLE_DATABASE_URL"]]
    for url in map(make_url, urls):
        assert url.host == "postgres"
        assert f"CREATE ROLE {url.username} LOGIN PASSWORD :'" in sql
        assert f"CREATE DATABASE {url.database} OWNER {url.username};" in sql
    assert make_url(urls[0]).drivername == "postgresql+asyncpg"
    # Each password is the one postgres hands its init script.
    for variable in ("PREFECT_DB_PASSWORD", "REVCYCLE_DB_PASSWORD"):
        assert f'="${variable}"' in sql
    assert (make_url(urls[0]).password, make_url(urls[1]).password) == (
        postgres["environment"]["PREFECT_DB_PASSWORD"],
        postgres["environment"]["REVCYCLE_DB_PASSWORD"])
