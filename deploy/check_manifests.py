#!/usr/bin/env python3
"""Consistency checks of deploy/kubernetes that no schema can make.

Run by deploy/validate.sh, from the repository root:

    python3 deploy/check_manifests.py RENDERED_CONFIGMAP_VARIANT.yaml

- every kustomization.yaml: each `resources:` entry and each
  configMapGenerator file exists;
- the ConfigMap variant: the generator's files, the volume's `items` and
  the rule files of rules/ are the same list, each key mapped back to its
  path, and the rendered ConfigMap holds exactly rules/' contents, within
  the 1 MiB a ConfigMap may hold;
- the git-sync variant: service.yaml and secret.yaml are the same as the
  ConfigMap variant's, cansend reads the rules through git-sync's link, and
  both containers mount the shared volume at the same path.

Prints one line per check and exits 1 if any failed.
"""

import os
import sys

import yaml

KUBE = "deploy/kubernetes"
GIT_SYNC = os.path.join(KUBE, "git-sync")
RULE_EXTENSIONS = (".yaml", ".yml", ".toml")
CONFIGMAP_LIMIT = 1024 * 1024

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def rule_files():
    out = []
    for root, dirs, files in os.walk("rules"):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(RULE_EXTENSIONS) and not name.startswith("."):
                out.append(os.path.relpath(os.path.join(root, name), "rules"))
    return sorted(out)


def kustomization_references(directory):
    k = load(os.path.join(directory, "kustomization.yaml"))
    missing = []
    for r in k.get("resources", []):
        if not os.path.exists(os.path.join(directory, r)):
            missing.append(r)
    for gen in k.get("configMapGenerator", []):
        for entry in gen.get("files", []):
            source = entry.split("=", 1)[-1]
            if not os.path.isfile(os.path.join(directory, source)):
                missing.append(source)
    check(f"{directory}/kustomization.yaml: every resource and generated file exists", not missing, f"missing {missing}")
    return k


def deployment(directory):
    docs = load_all(os.path.join(directory, "deployment.yaml"))
    return next(d for d in docs if d.get("kind") == "Deployment")


def configmap_variant(rendered_path):
    k = kustomization_references(KUBE)
    files = rule_files()
    generated = {}
    for gen in k.get("configMapGenerator", []):
        for entry in gen.get("files", []):
            key, source = entry.split("=", 1)
            generated[key] = os.path.normpath(os.path.join(KUBE, source))
    sources = sorted(os.path.relpath(s, "rules") for s in generated.values())
    check("ConfigMap: the generator's files are rules/ exactly", sources == files, f"generator {sources} vs rules/ {files}")

    spec = deployment(KUBE)["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if "configMap" in v)
    items = {i["key"]: i["path"] for i in volume["configMap"].get("items", [])}
    check("ConfigMap: every generated key is mounted (volume items)", sorted(items) == sorted(generated), f"items {sorted(items)} vs keys {sorted(generated)}")
    wrong = [k for k, p in items.items() if k in generated and os.path.join("rules", p) != generated[k]]
    check("ConfigMap: each key is mounted at its path under rules/", not wrong, f"{wrong}")

    rendered = load_all(rendered_path)
    cms = [d for d in rendered if d.get("kind") == "ConfigMap"]
    check("ConfigMap: the render has one ConfigMap", len(cms) == 1, f"{len(cms)}")
    if cms:
        data = cms[0].get("data", {})
        differ = []
        for key, source in generated.items():
            with open(source, encoding="utf-8") as f:
                if data.get(key) != f.read():
                    differ.append(key)
        check("ConfigMap: the rendered data are rules/' contents", not differ and set(data) == set(generated), f"{differ}")
        size = sum(len(k.encode()) + len(v.encode()) for k, v in data.items())
        check(
            f"ConfigMap: {size} bytes, within the 1 MiB a ConfigMap holds",
            size < CONFIGMAP_LIMIT,
            "the rules outgrew a ConfigMap: use deploy/kubernetes/git-sync",
        )


def git_sync_variant():
    kustomization_references(GIT_SYNC)
    for name in ("service.yaml", "secret.yaml"):
        with open(os.path.join(KUBE, name), "rb") as a, open(os.path.join(GIT_SYNC, name), "rb") as b:
            check(f"git-sync: {name} is the ConfigMap variant's", a.read() == b.read())
    spec = deployment(GIT_SYNC)["spec"]["template"]["spec"]
    sidecar = next((c for c in spec.get("initContainers", []) if c["name"] == "git-sync"), None)
    check("git-sync: a native sidecar (init container, restartPolicy: Always)", sidecar is not None and sidecar.get("restartPolicy") == "Always")
    if sidecar is None:
        return
    flags = dict(a.lstrip("-").split("=", 1) for a in sidecar.get("args", []) if a.startswith("--") and "=" in a)
    check("git-sync: --repo, --root and --link are set", all(f in flags for f in ("repo", "root", "link")), f"{flags}")
    check("git-sync: a startup probe holds cansend back until the first sync", "startupProbe" in sidecar)
    cansend = next(c for c in spec["containers"] if c["name"] == "cansend")
    args = cansend.get("args", [])
    rules = args[args.index("--rules") + 1] if "--rules" in args else ""
    link = os.path.join(flags.get("root", ""), flags.get("link", ""))
    check(f"git-sync: cansend reads the rules through the link ({rules})", rules == link or rules.startswith(link + "/"), f"--rules {rules}, link {link}")

    def mount(container, volume):
        return next((m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] == volume), None)

    volume = next((v["name"] for v in spec["volumes"] if "emptyDir" in v and mount(sidecar, v["name"]) == flags.get("root")), None)
    check("git-sync: --root is an emptyDir", volume is not None)
    check("git-sync: both containers mount it at the same path", volume is not None and mount(cansend, volume) == mount(sidecar, volume))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    configmap_variant(sys.argv[1])
    git_sync_variant()
    failed = results.count(False)
    print(f"manifest checks: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
