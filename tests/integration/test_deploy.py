"""deploy/ checked offline as far as the tools allow: YAML, the config, `docker compose config`,
`promtool check config`, `systemd-analyze verify` and `security`, and the Kubernetes manifests'
structure (kinds, names, labels, ports and mounts that must line up)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from routewatch.alerting.rules import DEFAULT_JOB
from routewatch.config.schema import load_config, parse_config
from routewatch.config.shards import shard_from_environment
from tests.support.tools import REPO, find_tool, require_tool

pytestmark = pytest.mark.integration

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
CONFIG = DEPLOY / "routewatch.yaml"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _manifests() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text())}


@pytest.mark.parametrize("path", sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml"),
                                         *(REPO / "grafana" / "provisioning").rglob("*.yaml")]),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_yaml_parses(path: Path) -> None:
    assert [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def test_the_deployed_config_is_valid_and_the_configmap_carries_it() -> None:
    config = load_config(str(CONFIG))
    assert config.exporter.listen == "0.0.0.0" and config.exporter.port == 9724
    assert _manifests()["ConfigMap"]["data"]["routewatch.yaml"] == CONFIG.read_text()


def _compose_command() -> list[str]:
    docker = find_tool("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [require_tool("docker-compose")]


def test_docker_compose_config_accepts_the_stack() -> None:
    result = subprocess.run([*_compose_command(), "-f", str(DEPLOY / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"routewatch", "routewatch-demo", "prometheus", "grafana"}
    # the demo stands in for the live daemon under its name, so Prometheus and Grafana need no change
    demo = services["routewatch-demo"]
    assert demo["profiles"] == ["demo"] and demo["command"][0] == "demo"
    assert "routewatch" in demo["networks"]["default"]["aliases"]


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path (resolved against deploy/) of each bind mount."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            out[target] = (DEPLOY / source).resolve()
    return out


def test_the_stack_pages_once_and_its_parts_line_up() -> None:
    services = _yaml(DEPLOY / "docker-compose.yml")["services"]
    grafana, prometheus, routewatch = (_mounts(services[name]) for name in ("grafana", "prometheus", "routewatch"))
    for mounts in (grafana, prometheus, routewatch):
        assert all(path.exists() for path in mounts.values()), mounts
    # Grafana alerts, Prometheus loads no rules: nothing pages twice
    assert grafana["/etc/grafana/provisioning/alerting"] == REPO / "grafana" / "provisioning" / "alerting"
    prom_config = _yaml(prometheus["/etc/prometheus/prometheus.yml"])
    assert "rule_files" not in prom_config
    provider = _yaml(REPO / "grafana" / "provisioning" / "dashboards" / "routewatch.yaml")["providers"][0]
    assert grafana[provider["options"]["path"]] == REPO / "grafana" / "dashboards"
    (job,) = prom_config["scrape_configs"]
    assert job["job_name"] == DEFAULT_JOB
    assert job["static_configs"][0]["targets"] == [f"routewatch:{load_config(str(CONFIG)).exporter.port}"]
    assert routewatch["/etc/routewatch/routewatch.yaml"] == CONFIG


def test_promtool_accepts_the_prometheus_config() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at the routewatch installed here (verify checks it exists)."""
    installed = shutil.which("routewatch") or str(Path(__import__("sys").executable).parent / "routewatch")
    assert Path(installed).exists()
    text = (DEPLOY / "systemd" / "routewatch.service").read_text()
    path = tmp_path / "routewatch.service"
    path.write_text(text.replace("/usr/local/bin/routewatch", installed))
    return path


def test_systemd_verifies_the_unit(unit: Path) -> None:
    analyze = require_tool("systemd-analyze")
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "routewatch.service" not in result.stderr, result.stdout + result.stderr


def test_the_unit_is_hardened(unit: Path) -> None:
    analyze = require_tool("systemd-analyze")
    text = unit.read_text()
    for directive in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                      "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "StateDirectory=routewatch",
                      "ExecReload=/bin/kill -HUP $MAINPID"):
        assert directive in text, directive
    result = subprocess.run([analyze, "security", "--offline=yes", str(unit)], capture_output=True, text=True,
                            timeout=60)
    match = re.search(r"Overall exposure level for routewatch\.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) < 2.0, result.stdout


def test_kubernetes_manifests_line_up() -> None:
    m = _manifests()
    assert {k: v["apiVersion"] for k, v in m.items()} == {
        "ConfigMap": "v1", "Deployment": "apps/v1", "Service": "v1", "ServiceMonitor": "monitoring.coreos.com/v1"}
    assert all(doc["metadata"]["name"] == "routewatch" for doc in m.values())
    kustomization = _yaml(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(p.name for p in K8S.glob("*.yaml")
                                                      if p.name != "kustomization.yaml")

    deployment = m["Deployment"]["spec"]
    pod = deployment["template"]
    assert deployment["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert deployment["replicas"] >= 2
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": load_config(str(CONFIG)).exporter.port}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    mounts = {v["name"]: v["mountPath"] for v in container["volumeMounts"]}
    assert container["args"] == ["run", "-c", mounts["config"] + "/routewatch.yaml"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["config"]["configMap"]["name"] == m["ConfigMap"]["metadata"]["name"]
    assert load_config(str(CONFIG)).state.path.startswith(mounts["state"] + "/")

    service = m["Service"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["metrics"]
    monitor = m["ServiceMonitor"]["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [e["port"] for e in monitor["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]
    # the job label becomes the value of that Service label: the job RoutewatchAbsent watches
    assert service["metadata"]["labels"][monitor["jobLabel"]] == DEFAULT_JOB


def test_the_image_runs_routewatch_unprivileged_with_bgpstream() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages[0].startswith("python:3.11-slim")
    assert "pkg.caida.org" in text and "UNVERIFIED" in text
    assert re.search(r"^RUN .*install .*\bbgpstream\b", text, re.M)
    assert '"routewatch[bgpstream]"' in text
    assert re.search(r"^USER 10001$", text, re.M)
    assert f"EXPOSE {load_config(str(CONFIG)).exporter.port}" in text
    assert re.search(r'^CMD \["run", "-c", "/etc/routewatch/routewatch.yaml"\]$', text, re.M)


def test_the_image_has_a_dns_server_for_the_demo() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    final = text.rsplit("\nFROM ", 1)[1]  # the stage the image runs: the demo starts knotd from there
    assert re.search(r"install -y --no-install-recommends .*\bknot\b", final)


def test_sharded_kubernetes_manifests_give_every_shard_one_pod() -> None:
    sharded = K8S / "sharded"
    names = _yaml(sharded / "kustomization.yaml")["resources"]
    m = {doc["kind"]: doc for doc in (_yaml(sharded / name) for name in names)}
    assert set(m) == {"ConfigMap", "StatefulSet", "Service", "ServiceMonitor", "PodDisruptionBudget"}
    config = parse_config(yaml.safe_load(m["ConfigMap"]["data"]["routewatch.yaml"]))
    statefulset = m["StatefulSet"]["spec"]
    # pod N is routewatch-N: its hostname's ordinal is its shard, one pod per shard
    assert statefulset["replicas"] == config.sharding.shards > 1 and config.sharding.shard is None
    assert shard_from_environment({}, f"{m['StatefulSet']['metadata']['name']}-2") == 2
    assert statefulset["serviceName"] == m["Service"]["metadata"]["name"]
    assert m["Service"]["spec"]["clusterIP"] == "None"
    pod_labels = statefulset["template"]["metadata"]["labels"]
    for selector in (statefulset["selector"]["matchLabels"], m["Service"]["spec"]["selector"],
                     m["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
    assert m["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    (claim,) = statefulset["volumeClaimTemplates"]
    (container,) = statefulset["template"]["spec"]["containers"]
    mounts = {v["name"]: v["mountPath"] for v in container["volumeMounts"]}
    assert config.state.path is not None and config.state.path.startswith(mounts[claim["metadata"]["name"]] + "/")
    assert m["Service"]["metadata"]["labels"][m["ServiceMonitor"]["spec"]["jobLabel"]] == DEFAULT_JOB


def test_the_compose_shards_example_scrapes_every_shard_under_the_rules_job() -> None:
    path = DEPLOY / "docker-compose.shards.yml"
    result = subprocess.run([*_compose_command(), "-f", str(path), "config"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    config = load_config(str(DEPLOY / "routewatch-shards.yaml"))
    shards = {name: s for name, s in services.items() if name.startswith("routewatch-")}
    assert sorted(int(s["environment"]["ROUTEWATCH_SHARD"]) for s in shards.values()) == list(
        range(config.sharding.shards))
    prometheus = _mounts(_yaml(path)["services"]["prometheus"])
    prom_config = _yaml(prometheus["/etc/prometheus/prometheus.yml"])
    (job,) = prom_config["scrape_configs"]
    assert job["job_name"] == DEFAULT_JOB
    assert sorted(job["static_configs"][0]["targets"]) == sorted(f"{n}:{config.exporter.port}" for n in shards)
    assert [prometheus[f] for f in prom_config["rule_files"]] == [DEPLOY / "prometheus" / "routewatch-rules.yml"]
