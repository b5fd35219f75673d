#!/usr/bin/env bash
# Validates the Kubernetes manifests under deploy/, offline.
#
# Every YAML document under deploy/ (multi-document files included) is checked against
# the Kubernetes OpenAPI schemas bundled in the PyPI package kubernetes-validate, in
# strict mode (an unknown or misspelt field is an error, as is a kind or apiVersion it
# has no schema for), for each version in K8S_VERSIONS. Then the objects are checked
# against each other: what the schemas cannot see and the API server would accept but
# would not work (a selector that matches no pod, a mount of a volume that does not
# exist, a Secret nobody creates or one that lacks a key a pod mounts, ...). One line per
# object; exit status 1 on any error.
#
# The validator is installed, when missing, in a virtualenv outside the repository
# (K8S_VALIDATE_VENV, default /var/cache/ironroot/venv-k8s), reused by later runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy_dir="${DEPLOY_DIR:-$root/deploy}"
# Oldest Kubernetes supported, and the newest the pinned package bundles.
versions="${K8S_VERSIONS:-1.30 1.37}"
pkg="kubernetes-validate==1.37.0"

cache="/var/cache/ironroot"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/ironroot"
fi
venv="${K8S_VALIDATE_VENV:-$cache/venv-k8s}"
py="$venv/bin/python"

installed() {
  [ -x "$py" ] && "$py" - "$pkg" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
import kubernetes_validate  # noqa: F401
sys.exit(0 if version("kubernetes-validate") == sys.argv[1].split("==")[1] else 1)
EOF
}

if ! installed; then
  echo "installing $pkg into $venv"
  command -v python3 >/dev/null || { echo "python3 not found: install it (apt-get install python3 python3-venv)"; exit 1; }
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" || { echo "cannot create a virtualenv: install python3-venv"; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$pkg"
  installed || { echo "$pkg did not install into $venv"; exit 1; }
fi

exec "$py" - "$deploy_dir" $versions <<'PYEOF'
import os
import re
import sys

import yaml
import kubernetes_validate
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError, VersionNotSupportedError

deploy_dir, versions = sys.argv[1], sys.argv[2:]
errors = []


def fail(where, msg):
    errors.append(f"{where}: {msg}")
    print(f"ERROR {where}: {msg}")


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML keeps the last one silently)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

# --- load every document under deploy/ ----------------------------------------------
files = sorted(
    os.path.join(d, f)
    for d, _, fs in os.walk(deploy_dir)
    for f in fs
    if f.endswith((".yaml", ".yml"))
)
if not files:
    print(f"ERROR no YAML file under {deploy_dir}")
    sys.exit(1)

objects = []          # (file, doc)
examples = set()      # (kind, namespace, name) of objects in *.example.yaml: never applied
kustomizations = []   # (file, doc)
for path in files:
    rel = os.path.relpath(path, os.path.dirname(deploy_dir))
    try:
        with open(path) as f:
            docs = list(yaml.load_all(f, Loader=StrictLoader))
    except yaml.YAMLError as e:
        fail(rel, "not valid YAML: " + " ".join(str(e).split()))
        continue
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        where = f"{rel}#{i + 1}"
        if not isinstance(doc, dict):
            fail(where, "a document must be a mapping (a Kubernetes object)")
            continue
        if not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
            fail(where, "missing apiVersion or kind")
            continue
        if doc["kind"] == "Kustomization":
            kustomizations.append((rel, path, doc))
            continue
        name = (doc.get("metadata") or {}).get("name")
        if not isinstance(name, str) or not name:
            fail(where, f"{doc['kind']} without metadata.name")
            continue
        objects.append((rel, doc))
        if ".example." in os.path.basename(path):
            examples.add((doc["kind"], doc["metadata"].get("namespace"), name))

# --- schema validation, strict, against each Kubernetes version ------------------------
for rel, doc in objects:
    label = f"{doc['kind']}/{doc['metadata']['name']}"
    ok = True
    for v in versions:
        try:
            kubernetes_validate.validate(doc, v, strict=True)
        except ValidationError as e:
            path = ".".join(str(p) for p in e.path) or "(top level)"
            fail(f"{rel} {label}", f"Kubernetes {v} schema: {path}: {e.message}")
            ok = False
            break
        except SchemaNotFoundError as e:
            fail(f"{rel} {label}", f"unknown kind or apiVersion: {e.message}")
            ok = False
            break
        except VersionNotSupportedError:
            fail("K8S_VERSIONS", f"kubernetes-validate has no schemas for Kubernetes {v}")
            sys.exit(2)
    if ok:
        print(f"{label}: ok ({rel}, schemas {' '.join(versions)} strict)")

# --- cross-object checks (once every object passes its schema) ---------------------
if errors:
    print(f"\nmanifests: {len(errors)} error(s) under {deploy_dir} "
          "(the checks across objects run once these are fixed)")
    sys.exit(1)

by_kind = {}
seen = {}
for rel, doc in objects:
    md = doc["metadata"]
    key = (doc["kind"], md.get("namespace"), md["name"])
    if key in seen:
        fail(rel, f"{doc['kind']}/{md['name']} is also defined in {seen[key]}")
    seen[key] = rel
    by_kind.setdefault(doc["kind"], []).append((rel, doc))

namespaces = [d["metadata"]["name"] for _, d in by_kind.get("Namespace", [])]
if len(namespaces) != 1:
    fail(deploy_dir, f"expected exactly one Namespace, found {namespaces}")
namespace = namespaces[0] if namespaces else None
cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                  "StorageClass", "CustomResourceDefinition", "RuntimeClass",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
for rel, doc in objects:
    if doc["kind"] not in cluster_scoped and doc["metadata"].get("namespace") != namespace:
        fail(rel, f"{doc['kind']}/{doc['metadata']['name']} is not in namespace {namespace}")

# Secrets and ConfigMaps created by hand (from files) must be in README.md's commands.
readme_path = os.path.join(deploy_dir, "README.md")
readme = open(readme_path).read() if os.path.exists(readme_path) else ""
# One command per logical line: join backslash continuations.
readme_commands = re.sub(r"\\\n\s*", " ", readme)


def created_keys(args):
    """The keys a `kubectl create secret|configmap` command's arguments create; None when
    they cannot be known here (no --from-* argument, --from-env-file, --from-file=DIR/)."""
    keys = set()
    for flag, value in re.findall(r"--(from-file|from-literal|from-env-file)[= ](\S+)", args):
        value = value.strip("'\"")
        if flag == "from-env-file" or (flag == "from-file" and "=" not in value
                                       and value.endswith("/")):
            return None
        keys.add(value.split("=", 1)[0] if "=" in value else os.path.basename(value))
    return keys or None


# (kind, name) -> [(where, keys or None)]: every place that makes the object.
key_sources = {}
for m in re.finditer(r"kubectl\b[^\n]*?\bcreate\s+(secret\s+\w+|configmap)\s+([a-z0-9.-]+)([^\n]*)",
                     readme_commands):
    kind = "Secret" if m.group(1).startswith("secret") else "ConfigMap"
    key_sources.setdefault((kind, m.group(2)), []).append(
        ("deploy/README.md `kubectl create`", created_keys(m.group(3))))
created_by_readme = set(key_sources)
for rel, doc in objects:
    if doc["kind"] in ("Secret", "ConfigMap"):
        keys = set()
        for field in ("data", "stringData", "binaryData"):
            keys |= set(doc.get(field) or {})
        key_sources.setdefault((doc["kind"], doc["metadata"]["name"]), []).append((rel, keys))


def defined(kind, name):
    key = (kind, namespace, name)
    return (key in seen and key not in examples) or (kind, name) in created_by_readme


def check_key(where, kind, name, key):
    """A key used from a Secret or ConfigMap must be in every place that makes it: the
    README's command and the example alike (a key missing there stops the pod)."""
    for source, keys in key_sources.get((kind, name), []):
        if keys is not None and key not in keys:
            fail(where, f"uses key {key} of {kind} {name}, which {source} does not create "
                        f"(it has: {', '.join(sorted(keys)) or 'no key'})")


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


workloads = [(rel, d) for k in ("Deployment", "DaemonSet", "StatefulSet")
             for rel, d in by_kind.get(k, [])]
pod_labels = [d["spec"]["template"]["metadata"].get("labels", {}) for _, d in workloads]

for rel, d in workloads:
    w = f"{rel} {d['kind']}/{d['metadata']['name']}"
    spec = d["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if not matches(spec["selector"].get("matchLabels"), labels):
        fail(w, "spec.selector does not match the pod template's labels")
    sa = pod.get("serviceAccountName")
    if sa and not defined("ServiceAccount", sa):
        fail(w, f"ServiceAccount {sa} is not defined under deploy/")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    used = set()
    for c in pod.get("initContainers", []) + pod["containers"]:
        cw = f"{w} container {c['name']}"
        for m in c.get("volumeMounts", []):
            used.add(m["name"])
            if m["name"] not in volumes:
                fail(cw, f"volumeMount {m['name']} has no volume of that name")
        ports = {p.get("name") for p in c.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            p = (c.get(probe) or {}).get("httpGet") or {}
            if isinstance(p.get("port"), str) and p["port"] not in ports:
                fail(cw, f"{probe} uses port {p['port']}, which the container does not name")
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {})
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                r = ref.get(key)
                if r and not r.get("optional") and not defined(kind, r["name"]):
                    fail(cw, f"env {e['name']} needs {kind} {r['name']}: neither under deploy/ "
                             f"nor created in deploy/README.md")
                elif r and not r.get("optional"):
                    check_key(f"{cw} env {e['name']}", kind, r["name"], r["key"])
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            fail(cw, "runs privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(cw, "allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(cw, "readOnlyRootFilesystem must be true")
        if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
            fail(cw, "capabilities must drop ALL")
        seccomp = (sc.get("seccompProfile") or pod.get("securityContext", {}).get("seccompProfile") or {})
        if seccomp.get("type") != "RuntimeDefault":
            fail(cw, "seccompProfile must be RuntimeDefault")
        if "resources" not in c or "limits" not in c["resources"] or "requests" not in c["resources"]:
            fail(cw, "needs resources.requests and resources.limits")
    for name in volumes:
        if name not in used:
            fail(w, f"volume {name} is mounted by no container")
    for name, v in volumes.items():
        hp_type = (v.get("hostPath") or {}).get("type")
        if hp_type not in (None, "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                           "Socket", "CharDevice", "BlockDevice"):
            fail(w, f"volume {name}: hostPath type {hp_type!r} is not one Kubernetes knows")
        for kind, key, field in (("Secret", "secret", "secretName"), ("ConfigMap", "configMap", "name")):
            if key in v and not v[key].get("optional") and not defined(kind, v[key][field]):
                fail(w, f"volume {name} needs {kind} {v[key][field]}: neither under deploy/ "
                        f"nor created in deploy/README.md")
            elif key in v and not v[key].get("optional"):
                for item in v[key].get("items", []):
                    check_key(f"{w} volume {name}", kind, v[key][field], item["key"])

for rel, d in by_kind.get("Service", []):
    sel = d["spec"].get("selector")
    targets = [(r, w) for (r, w), l in zip(workloads, pod_labels) if matches(sel, l)]
    if not targets:
        fail(rel, f"Service/{d['metadata']['name']} selects no pod defined under deploy/")
    for port in d["spec"].get("ports", []):
        tp = port.get("targetPort")
        if isinstance(tp, str):
            for r, w in targets:
                names = {p.get("name") for c in w["spec"]["template"]["spec"]["containers"]
                         for p in c.get("ports", [])}
                if tp not in names:
                    fail(rel, f"Service/{d['metadata']['name']} targetPort {tp} is not a port "
                              f"of {w['kind']}/{w['metadata']['name']}")

for kind, field in (("PodDisruptionBudget", "selector"), ("NetworkPolicy", "podSelector")):
    for rel, d in by_kind.get(kind, []):
        sel = d["spec"][field].get("matchLabels")
        if not any(matches(sel, l) for l in pod_labels):
            fail(rel, f"{kind}/{d['metadata']['name']} selects no pod defined under deploy/")

for rel, d in by_kind.get("NetworkPolicy", []):
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in d["spec"].get(direction, []):
            for peer in rule.get(peers_key, []):
                ps = peer.get("podSelector")
                if ps is not None and "namespaceSelector" not in peer:
                    if not any(matches(ps.get("matchLabels"), l) for l in pod_labels):
                        fail(rel, f"NetworkPolicy/{d['metadata']['name']} {direction} peer "
                                  f"{ps.get('matchLabels')} matches no pod defined under deploy/")

# --- kustomization.yaml ------------------------------------------------------------
known = {"apiVersion", "kind", "resources", "images", "namespace", "labels", "commonLabels",
         "commonAnnotations", "patches", "configMapGenerator", "secretGenerator",
         "generatorOptions", "components"}
for rel, path, k in kustomizations:
    unknown = set(k) - known
    if unknown:
        fail(rel, f"unknown Kustomization fields: {sorted(unknown)}")
        continue
    base = os.path.dirname(path)
    listed = set()
    for r in k.get("resources", []):
        p = os.path.normpath(os.path.join(base, r))
        listed.add(p)
        if not os.path.exists(p):
            fail(rel, f"resource {r} does not exist")
    for f in files:
        if (os.path.dirname(f) == base and f != path and f not in listed
                and ".example." not in os.path.basename(f)):
            fail(rel, f"{os.path.basename(f)} is under deploy/ but not listed in resources "
                      f"(name it *.example.yaml if it must not be applied)")
    print(f"Kustomization ({rel}): ok")

if errors:
    print(f"\nmanifests: {len(errors)} error(s) under {deploy_dir}")
    sys.exit(1)
print(f"manifests: {len(objects)} objects valid (Kubernetes {', '.join(versions)}, strict)")
PYEOF
