"""The Kubernetes manifests in deploy/kubernetes, checked without a cluster.

Every manifest the kustomization lists is validated against the Kubernetes API's own schemas
(kubernetes-validate, strict: a misspelt or misplaced field fails), and so is what
`kubectl kustomize` makes of them when kubectl is installed. Then what a schema cannot see: the
register service's DSP_RASA_URLS names exactly the Rasa StatefulSet's pods, no secret is written
inline, every container has resources and (when it serves) probes, and Rasa keeps conversations in
PostgreSQL with a Redis lock store.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_DIR = ROOT / "deploy" / "kubernetes"
SECRET_EXAMPLE = KUSTOMIZE_DIR / "secret.example.yaml"
# The Kubernetes version the manifests must be valid for (kubernetes-validate bundles its schemas).
KUBERNETES_VERSION = "1.30"
SECRET_NAME = "dsp-secrets"
# Environment variables whose value is a secret: they must come from the Secret.
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|USERNAME|DATABASE_URL|_KEY$", re.I)
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
SERVING = {"Deployment", "StatefulSet", "DaemonSet"}

Manifest = dict[str, Any]


def listed_files() -> list[Path]:
    kustomization = yaml.safe_load((KUSTOMIZE_DIR / "kustomization.yaml").read_text())
    return [KUSTOMIZE_DIR / name for name in kustomization["resources"]]


def documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def all_manifests() -> list[tuple[str, Manifest]]:
    return [(path.name, doc) for path in listed_files() for doc in documents(path)]


def named(kind: str, name: str) -> Manifest:
    found = [
        doc for _, doc in all_manifests() if (doc["kind"], doc["metadata"]["name"]) == (kind, name)
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def of_kind(kind: str) -> list[Manifest]:
    return [doc for _, doc in all_manifests() if doc["kind"] == kind]


def pod_spec(workload: Manifest) -> Manifest:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: Manifest) -> dict[str, str]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return workload["spec"]["template"]["metadata"]["labels"]


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def workloads() -> list[Manifest]:
    return [doc for _, doc in all_manifests() if doc["kind"] in WORKLOADS]


def label(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def validate(manifest: Manifest) -> None:
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def assert_valid(manifest: Manifest) -> None:
    """Valid for KUBERNETES_VERSION, or a failure naming the field (not the whole manifest)."""
    try:
        validate(manifest)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        problem = f"{label(manifest)}: {where}: {error.message}"
    else:
        return
    # Outside the except block, so the report is one line, not the schema and the manifest.
    pytest.fail(problem, pytrace=False)


# ---- the schemas ------------------------------------------------------------------------------


def test_the_kustomization_lists_files_that_exist() -> None:
    files = listed_files()
    assert files, "kustomization.yaml lists no resources"
    for path in files:
        assert path.is_file(), f"kustomization.yaml lists {path.name}, which does not exist"
    # Every manifest beside it is either listed or the example Secret, so none is forgotten.
    beside = {p.name for p in KUSTOMIZE_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert beside - {p.name for p in files} == {SECRET_EXAMPLE.name}


@pytest.mark.parametrize(
    "manifest",
    [pytest.param(doc, id=f"{name}:{label(doc)}") for name, doc in all_manifests()],
)
def test_every_listed_manifest_is_valid_kubernetes(manifest: Manifest) -> None:
    assert_valid(manifest)


def test_a_misspelt_field_fails_validation() -> None:
    """The strict schemas are what make the check worth having: an unknown field is an error."""
    broken = copy.deepcopy(named("Deployment", "dsp-register"))
    container = pod_spec(broken)["containers"][0]
    container["readynessProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken)
    wrong_type = copy.deepcopy(named("StatefulSet", "rasa"))
    wrong_type["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(wrong_type)


def test_the_example_secret_is_valid_and_holds_only_placeholders() -> None:
    (secret,) = documents(SECRET_EXAMPLE)
    assert_valid(secret)
    assert secret["metadata"]["name"] == SECRET_NAME
    assert not of_kind("Secret"), "no Secret may be in the kustomization: secret.example.yaml only"
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, f"{key} in secret.example.yaml must be an obvious placeholder"


def test_kubectl_kustomize_output_is_valid() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZE_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    output = [doc for doc in yaml.safe_load_all(built.stdout) if doc is not None]
    for manifest in output:
        assert_valid(manifest)
    assert sorted(map(label, output)) == sorted(label(doc) for _, doc in all_manifests())
    assert {doc["metadata"].get("namespace", "dsp") for doc in output} == {"dsp"}


# ---- what a schema cannot see -----------------------------------------------------------------


def test_dsp_rasa_urls_name_exactly_the_rasa_statefulset_pods() -> None:
    """/chat hashes the conversation id over DSP_RASA_URLS: one URL per StatefulSet pod, in order,
    or some conversations go to a pod that does not exist and others never reach one that does."""
    rasa = named("StatefulSet", "rasa")
    service = named("Service", rasa["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None", "each Rasa pod needs its own DNS name"
    assert service["spec"]["selector"].items() <= pod_labels(rasa).items()
    namespace = rasa["metadata"]["namespace"]
    port = service["spec"]["ports"][0]["port"]
    expected = [
        f"http://{rasa['metadata']['name']}-{index}.{service['metadata']['name']}"
        f".{namespace}.svc.cluster.local:{port}"
        for index in range(rasa["spec"]["replicas"])
    ]
    (register,) = pod_spec(named("Deployment", "dsp-register"))["containers"]
    assert json.loads(env_of(register)["DSP_RASA_URLS"]["value"]) == expected


def test_secrets_come_from_the_secret_never_inline() -> None:
    (secret,) = documents(SECRET_EXAMPLE)
    keys = set(secret["stringData"])
    used: set[str] = set()
    for workload in workloads():
        for container in containers(workload):
            where = f"{label(workload)} container {container['name']}"
            for name, entry in env_of(container).items():
                value = entry.get("value", "")
                assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), (
                    f"{where}: {name} has credentials in a URL"
                )
                if not SECRETISH.search(name):
                    continue
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                assert ref and "value" not in entry, f"{where}: {name} must be a secretKeyRef"
                assert ref["name"] == SECRET_NAME
                assert ref["key"] in keys, f"{where}: {ref['key']} is not in secret.example.yaml"
                used.add(ref["key"])
            for source in container.get("envFrom", []):
                assert "configMapRef" in source, f"{where}: envFrom only from ConfigMaps"
    assert keys == used, f"secret.example.yaml documents keys nothing reads: {keys - used}"
    for config_map in of_kind("ConfigMap"):
        for key, value in config_map["data"].items():
            assert not SECRETISH.search(key), f"ConfigMap {config_map['metadata']['name']}: {key}"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value)


def test_every_container_has_resources_probes_and_runs_as_non_root() -> None:
    for workload in workloads():
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, label(workload)
        assert spec.get("automountServiceAccountToken") is False, label(workload)
        for container in containers(workload):
            where = f"{label(workload)} container {container['name']}"
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{where}: {kind}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert context["readOnlyRootFilesystem"] is True, where
            if workload["kind"] not in SERVING:
                continue
            ports = {port["name"] for port in container["ports"]} | {
                port["containerPort"] for port in container["ports"]
            }
            for probe in ("livenessProbe", "readinessProbe"):
                assert probe in container, f"{where}: no {probe}"
                assert container[probe]["httpGet"]["port"] in ports, f"{where}: {probe} port"


def test_rasa_keeps_conversations_in_postgresql_with_a_redis_lock_store() -> None:
    rasa = named("StatefulSet", "rasa")
    (container,) = pod_spec(rasa)["containers"]
    command = container["command"]
    endpoints_path = Path(command[command.index("--endpoints") + 1])
    mount = next(
        m for m in container["volumeMounts"] if m["mountPath"] == str(endpoints_path.parent)
    )
    volume = next(v for v in pod_spec(rasa)["volumes"] if v["name"] == mount["name"])
    config_map = named("ConfigMap", volume["configMap"]["name"])
    text = config_map["data"][endpoints_path.name]
    endpoints = yaml.safe_load(text)

    tracker = endpoints["tracker_store"]
    assert (tracker["type"], tracker["dialect"]) == ("SQL", "postgresql")
    assert endpoints["lock_store"]["type"] == "redis"
    for store in (tracker, endpoints["lock_store"]):
        assert store["password"].startswith("${"), "a password must come from the environment"

    # Every ${VAR} is set in Rasa's environment (Rasa refuses to start otherwise), and the
    # passwords from the Secret.
    env = env_of(container)
    for variable in re.findall(r"\$\{(\w+)\}", text):
        assert variable in env, f"endpoints.yml uses ${{{variable}}}, which Rasa's pod does not set"
    for variable in ("DSP_DB_USERNAME", "DSP_DB_PASSWORD", "DSP_REDIS_PASSWORD"):
        assert "secretKeyRef" in env[variable]["valueFrom"]
    for name, value in {
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "RASA_TELEMETRY_ENABLED": "false",
    }.items():
        assert env[name]["value"] == value

    # The action endpoint is the action server's Service.
    action_url = urlsplit(endpoints["action_endpoint"]["url"])
    actions = named("Service", "dsp-actions")
    assert action_url.hostname == "dsp-actions.dsp.svc.cluster.local"
    assert action_url.port == actions["spec"]["ports"][0]["port"]
    assert action_url.path == "/webhook"


def test_services_select_pods_and_ports_that_exist() -> None:
    for service in of_kind("Service"):
        selector = service["spec"]["selector"]
        matching = [w for w in workloads() if selector.items() <= pod_labels(w).items()]
        assert len(matching) == 1, f"Service {service['metadata']['name']} selects {len(matching)}"
        ports = {
            value
            for container in pod_spec(matching[0])["containers"]
            for port in container.get("ports", [])
            for value in (port["name"], port["containerPort"])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, f"Service {service['metadata']['name']}"


def test_the_public_door_is_the_register_service_over_tls() -> None:
    (ingress,) = of_kind("Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    backends = {path["backend"]["service"]["name"] for path in rule["http"]["paths"]}
    assert backends == {"dsp-register"}
    public_url = named("ConfigMap", "dsp-config")["data"]["DSP_PUBLIC_URL"]
    assert urlsplit(public_url).scheme == "https"
    assert urlsplit(public_url).hostname == rule["host"]


def test_the_register_service_serves_without_migrating_and_a_job_migrates() -> None:
    (register,) = pod_spec(named("Deployment", "dsp-register"))["containers"]
    assert register["command"][:2] == ["dsp-backend", "serve"]
    assert "--no-migrate" in register["command"]
    (migrate,) = pod_spec(named("Job", "dsp-migrate"))["containers"]
    assert migrate["command"] == ["dsp-backend", "migrate"]
    assert migrate["image"] == register["image"]
