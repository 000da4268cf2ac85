#!/usr/bin/env python3
"""Validates deploy/ offline (run by .ci/run):

- every core Kubernetes object in deploy/k8s/ against the Kubernetes 1.31 OpenAPI
  schemas, strictly (kubernetes-validate, from PyPI);
- the custom resources (KEDA ScaledObject, ServiceMonitor, PrometheusRule),
  which no offline schema covers, for the fields their controllers require;
- that every metric named in the alert rules and the Grafana dashboard is one
  the worker exports (docs/ingest.md), and every ClickHouse table the dashboard
  reads exists in schemas/clickhouse/;
- that the ConfigMap's callscope.toml only uses keys callscope knows
  (crates/cli/callscope.default.toml);
- the Dockerfile: multi-stage, non-root.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tomllib

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
K8S = os.path.join(ROOT, "deploy", "k8s")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def main():
    docs = open(os.path.join(ROOT, "docs", "ingest.md")).read()
    known_metrics = set(re.findall(r"`(callscope_[a-z_]+)`", docs))
    docs_objects = []
    core = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        for doc in yaml.safe_load_all(open(path)):
            if not doc:
                continue
            docs_objects.append((path, doc))
            if doc.get("apiVersion", "").split("/")[0] in ("keda.sh", "monitoring.coreos.com", "kustomize.config.k8s.io"):
                continue
            core.append(path)
    r = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--strict", "--quiet", "-k", "1.31.0",
                        *sorted(set(core))], capture_output=True, text=True)
    if r.returncode != 0:
        fail("kubernetes-validate:\n" + r.stdout + r.stderr)
    kinds = {}
    for path, doc in docs_objects:
        kinds.setdefault(doc["kind"], []).append(doc)
        name = f'{os.path.basename(path)}: {doc["kind"]}/{doc.get("metadata", {}).get("name", "?")}'
        if doc["kind"] == "ScaledObject":
            spec = doc["spec"]
            if spec.get("scaleTargetRef", {}).get("name") != "callscope-worker" or not spec.get("triggers"):
                fail(f"{name}: needs scaleTargetRef callscope-worker and triggers")
            for t in spec["triggers"]:
                for k in ("bootstrapServers", "consumerGroup", "topic", "lagThreshold"):
                    if k not in t.get("metadata", {}):
                        fail(f"{name}: kafka trigger lacks {k}")
        if doc["kind"] == "ServiceMonitor" and not doc["spec"].get("endpoints"):
            fail(f"{name}: no endpoints")
        if doc["kind"] == "PrometheusRule":
            for g in doc["spec"]["groups"]:
                for rule in g["rules"]:
                    if "alert" not in rule or "expr" not in rule:
                        fail(f"{name}: rule without alert/expr")
                    for m in re.findall(r"callscope_[a-z_]+", rule["expr"]):
                        if m not in known_metrics:
                            fail(f"{name}: alert {rule.get('alert')} uses unknown metric {m}")
        if doc["kind"] == "ConfigMap" and "callscope.toml" in doc.get("data", {}):
            defaults = tomllib.load(open(os.path.join(ROOT, "crates", "cli", "callscope.default.toml"), "rb"))
            conf = tomllib.loads(doc["data"]["callscope.toml"])
            for section, keys in conf.items():
                if section not in defaults:
                    fail(f"{name}: unknown section [{section}]")
                    continue
                for k in keys:
                    if k not in defaults[section] and not (section == "app" and k.startswith("jwt_")) \
                            and k not in ("clickhouse_url", "clickhouse_user", "trackers", "directory", "audio_root"):
                        fail(f"{name}: unknown key {section}.{k}")
        if doc["kind"] == "Deployment":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                if "resources" not in c or "requests" not in c["resources"]:
                    fail(f"{name}: container {c['name']} has no resource requests")
                if "livenessProbe" not in c or "readinessProbe" not in c:
                    fail(f"{name}: container {c['name']} lacks probes")
    for kind in ("Deployment", "Job", "PodDisruptionBudget", "ScaledObject", "HorizontalPodAutoscaler",
                 "ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret"):
        if kind not in kinds:
            fail(f"no {kind} in deploy/k8s")

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
    if dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") < 2:
        fail("Dockerfile: not multi-stage")
    if not re.search(r"^USER (?!0|root)", dockerfile, re.M):
        fail("Dockerfile: runs as root")
    print(f"deploy: {len(docs_objects)} objects checked ({len(set(core))} files against the Kubernetes schemas), "
          f"{len(dash['panels'])} dashboard panels, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
