"""infra/kubernetes: the Kubernetes work pool's base job template, the deployments for it,
the Prefect server, the worker and the Dask option. No cluster runs here (and no container
engine): this checks structure only. The job template goes through Prefect's own checks
(the server's WorkPoolCreate validation, its templating with the variables' defaults) and
what prefect-kubernetes requires of a job manifest; every environment variable a manifest
passes is one revcycle, Prefect, boto3 or Great Expectations reads; no secret value is
written anywhere, only the names of the Secrets that hold them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.server.schemas.actions import WorkPoolCreate
from prefect.settings import Settings as PrefectSettings
from prefect.settings.legacy import _get_settings_fields
from prefect.utilities.templating import apply_values, find_placeholders

from revcycle.channels.secrets import environment_variable
from revcycle.settings import Settings
from tests.conftest import REPO

K8S = REPO / "infra" / "kubernetes"
TEMPLATE = K8S / "work-pool.json"
DEPLOYMENTS = K8S / "prefect.yaml"
SCALING_DOC = REPO / "docs" / "scaling.md"
POOL = "revcycle-kubernetes"

# Names read by the libraries revcycle configures through the environment.
LIBRARY_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",  # boto3 (revcycle/storage.py)
                 "GX_ANALYTICS_ENABLED",  # Great Expectations (revcycle/quality/runner.py)
                 "DO_NOT_TRACK"}  # Prefect, GX, Dask: telemetry off
SECRET_LIKE = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|DATABASE_URL|CONNECTION_URL|API_KEY"
                         r"|TOKEN")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


# --- loading -----------------------------------------------------------------------------


def documents() -> list[tuple[Path, dict[str, Any]]]:
    """Every YAML document and JSON file in infra/kubernetes."""
    docs: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(K8S.iterdir()):
        if path.suffix in (".yaml", ".yml"):
            docs += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
        elif path.suffix == ".json":
            docs.append((path, json.loads(path.read_text())))
    return docs


def objects(kind: str | None = None) -> list[dict[str, Any]]:
    """The Kubernetes objects (documents with apiVersion and kind), of a kind if given."""
    return [doc for path, doc in documents()
            if "kind" in doc and "apiVersion" in doc and path.name != "kustomization.yaml"
            and (kind is None or doc["kind"] == kind)]


def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def defaults(variables: dict[str, Any]) -> dict[str, Any]:
    return {name: spec["default"] for name, spec in variables["properties"].items()
            if "default" in spec}


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod spec: the Deployments' and the work pool's job manifest."""
    for deployment in objects("Deployment"):
        yield deployment["metadata"]["name"], deployment["spec"]["template"]["spec"]
    yield "work pool job", template()["job_configuration"]["job_manifest"]["spec"][
        "template"]["spec"]


def env_entries() -> Iterator[tuple[str, dict[str, Any]]]:
    for owner, spec in pod_specs():
        for container in containers(spec):
            for entry in container.get("env", []):
                yield f"{owner}/{container['name']}", entry


def config_maps() -> dict[str, dict[str, str]]:
    return {cm["metadata"]["name"]: cm.get("data", {}) for cm in objects("ConfigMap")}


def deployment_env() -> dict[str, str]:
    """The env job variables of every deployment of infra/kubernetes/prefect.yaml."""
    doc = yaml.safe_load(DEPLOYMENTS.read_text())
    names: dict[str, str] = {}
    for deployment in doc["deployments"]:
        names.update(deployment.get("work_pool", {}).get("job_variables", {}).get("env", {}))
    return names


def known_names() -> set[str]:
    revcycle = {f"REVCYCLE_{name.upper()}" for name in Settings.model_fields}
    return revcycle | set(_get_settings_fields(PrefectSettings)) | LIBRARY_NAMES


def is_known(name: str) -> bool:
    # A payer channel's secret named NAME is read from REVCYCLE_SECRET_<NAME>.
    return name in known_names() or name == environment_variable(
        name.removeprefix("REVCYCLE_SECRET_").lower())


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


# --- every file --------------------------------------------------------------------------


def test_every_file_loads_and_every_object_is_named() -> None:
    docs = documents()
    assert {p.name for p, _ in docs} >= {"work-pool.json", "prefect.yaml", "namespace.yaml",
                                         "settings.yaml", "prefect-server.yaml",
                                         "prefect-worker.yaml", "dask.yaml",
                                         "kustomization.yaml"}
    for obj in objects():
        assert obj["metadata"]["name"], obj
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "revcycle", obj["metadata"]["name"]


def test_kustomization_lists_files_that_exist() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["resources"]
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource


# --- the work pool's base job template ---------------------------------------------------


def test_the_job_template_has_the_structure_prefect_expects() -> None:
    t = template()
    assert set(t) == {"job_configuration", "variables"}
    config, variables = t["job_configuration"], t["variables"]
    assert "job_manifest" in config
    assert variables["type"] == "object" and variables["properties"]
    for name, spec in variables["properties"].items():
        assert "type" in spec, name
    # Prefect's server checks this when the pool is created: every placeholder is a variable.
    WorkPoolCreate(name=POOL, type="kubernetes", base_job_template=t)
    used = {p.name for value in config.values() for p in find_placeholders(json.dumps(value))}
    assert used <= set(variables["properties"])


def test_the_job_manifest_is_a_job_prefect_kubernetes_accepts() -> None:
    manifest = template()["job_configuration"]["job_manifest"]
    assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "Job")
    assert "labels" in manifest["metadata"]
    pod = manifest["spec"]["template"]["spec"]
    assert (pod["parallelism"], pod["completions"], pod["restartPolicy"]) == (1, 1, "Never")
    assert pod["containers"][0]["name"] == "prefect-job"  # the worker looks for this one
    # env is a list (not "{{ env }}"): the worker puts a run's own variables before it.
    assert isinstance(pod["containers"][0]["env"], list)


def test_the_template_renders_with_its_defaults_and_a_deployments_variables() -> None:
    t = template()
    doc = yaml.safe_load(DEPLOYMENTS.read_text())
    job_variables = doc["deployments"][0]["work_pool"]["job_variables"]
    values = {**defaults(t["variables"]), **job_variables, "name": "daily-run"}
    rendered = apply_values(t["job_configuration"], values)
    assert rendered["env"] == job_variables["env"]
    assert "{{" not in json.dumps(rendered), "a placeholder has no value"
    pod = rendered["job_manifest"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "revcycle-flow-runs"
    assert pod["containers"][0]["resources"]["limits"]["memory"] == "4Gi"
    assert rendered["job_manifest"]["metadata"]["generateName"] == "daily-run-"


# --- environment variables and secrets ---------------------------------------------------


def test_every_environment_variable_is_one_something_reads() -> None:
    names = {entry["name"] for _, entry in env_entries()}
    names |= {key for data in config_maps().values() for key in data}
    names |= set(deployment_env())
    unknown = sorted(n for n in names if not is_known(n))
    assert not unknown, f"no setting reads {unknown}"
    # Together they make a PostgreSQL + S3 installation for the flow runs.
    assert {"REVCYCLE_DATABASE_URL", "REVCYCLE_STORE", "REVCYCLE_S3_BUCKET",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= names
    assert config_maps()["revcycle-settings"]["REVCYCLE_STORE"] == "s3"


def test_the_check_of_names_catches_a_misspelt_one() -> None:
    assert is_known("REVCYCLE_S3_BUCKET") and is_known("PREFECT_API_URL")
    assert is_known("REVCYCLE_SECRET_PAYER_WORLD")
    assert not is_known("REVCYCLE_S3_BUCKETS") and not is_known("PREFECT_API_URLS")
    assert not is_known("REVCYCLE_DB_URL")


def test_secrets_come_from_secrets_by_name_and_no_value_is_written() -> None:
    for owner, entry in env_entries():
        if SECRET_LIKE.search(entry["name"]):
            assert "value" not in entry, f"{owner} writes {entry['name']} inline"
            assert entry["valueFrom"]["secretKeyRef"]["name"], owner
    for name, data in config_maps().items():
        assert not [k for k in data if SECRET_LIKE.search(k)], f"secret in ConfigMap {name}"
    assert not [k for k in deployment_env() if SECRET_LIKE.search(k)]
    assert not objects("Secret"), "Secrets are made by the operator, never committed"
    for path, doc in documents():
        for s in strings(doc):
            assert not CREDENTIALS_IN_URL.search(s), f"{path.name}: a URL with a password"
            assert not AWS_KEY_ID.search(s), f"{path.name}: an access key id"


def test_every_secret_named_is_documented_with_its_keys() -> None:
    refs = {(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
            for _, e in env_entries() if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]}
    assert {name for name, _ in refs} == {"revcycle-database", "revcycle-s3",
                                          "prefect-database"}
    doc = SCALING_DOC.read_text()
    for name, key in refs:
        assert re.search(rf"kubectl -n revcycle create secret generic {name}\b[^\n]*"
                         rf"--from-literal={key}=", doc), f"{name}/{key} not in the runbook"


@pytest.mark.parametrize("kind", ["Deployment"])
def test_pods_refer_to_what_exists(kind: str) -> None:
    accounts = {sa["metadata"]["name"] for sa in objects("ServiceAccount")}
    services = {s["metadata"]["name"]: s for s in objects("Service")}
    maps = set(config_maps())
    for owner, spec in pod_specs():
        account = spec.get("serviceAccountName")
        if account and "{{" not in account:
            assert account in accounts, owner
        for container in containers(spec):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in maps, owner
    assert defaults(template()["variables"])["service_account_name"] in accounts
    for deployment in objects(kind):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for name, service in services.items():
        backing = [d for d in objects(kind) if service["spec"]["selector"].items()
                   <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert backing, f"no pods behind Service {name}"
        ports = {p["name"] for c in backing[0]["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, name


def test_one_image_and_one_pool_everywhere() -> None:
    images = {c["image"] for owner, spec in pod_specs() for c in containers(spec)
              if owner != "work pool job"}
    assert images == {defaults(template()["variables"])["image"]}
    worker = next(d for d in objects("Deployment") if d["metadata"]["name"] == "prefect-worker")
    command = worker["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--pool") + 1] == POOL
    assert command[command.index("--type") + 1] == "kubernetes"
    dask_workers = next(d for d in objects("Deployment") if d["metadata"]["name"] == "dask-worker")
    address = dask_workers["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert address == "tcp://dask-scheduler.revcycle.svc.cluster.local:8786"


# --- the deployments ---------------------------------------------------------------------


def test_the_deployments_are_those_of_infra_prefect_yaml_in_the_kubernetes_pool() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("k8s_deployments", K8S / "deployments.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run python infra/kubernetes/deployments.py"

    process = yaml.safe_load((REPO / "infra" / "prefect.yaml").read_text())
    ours = yaml.safe_load(DEPLOYMENTS.read_text())
    def listing(doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
        return [(d["name"], d["entrypoint"], d.get("schedules")) for d in doc["deployments"]]
    assert listing(ours) == listing(process)
    assert {d["work_pool"]["name"] for d in ours["deployments"]} == {POOL}
    step = ours["pull"][0]["prefect.deployments.steps.set_working_directory"]
    assert step["directory"] == "/opt/revcycle"
    assert "WORKDIR /opt/revcycle" in (REPO / "infra" / "Dockerfile").read_text()


def test_prefect_kubernetes_makes_a_job_from_the_template() -> None:
    """The worker's own configuration class (prefect-kubernetes: in the dev extra and in
    the cluster image)."""
    import uuid

    from prefect.client.schemas.objects import FlowRun
    from prefect_kubernetes import worker

    t = template()
    job_variables = yaml.safe_load(DEPLOYMENTS.read_text())["deployments"][0][
        "work_pool"]["job_variables"]
    rendered = apply_values(t["job_configuration"],
                            {**defaults(t["variables"]), **job_variables})
    config = worker.KubernetesWorkerJobConfiguration(**rendered)
    config.prepare_for_flow_run(FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), name="day"))
    container = config.job_manifest["spec"]["template"]["spec"]["containers"][0]
    names = [entry["name"] for entry in container["env"]]
    assert "PREFECT_LOGGING_LEVEL" in names  # the deployment's env, put first by the worker
    assert names[-3:] == ["REVCYCLE_DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert container["args"][:2] == ["prefect", "flow-run"]
    assert config.job_manifest["metadata"]["generateName"] == "day-"
