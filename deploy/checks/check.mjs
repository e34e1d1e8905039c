// Checks rendered manifests (one multi-document YAML file per overlay)
// offline: every object against the Kubernetes schemas (kubernetes-models),
// then the invariants the danegated pool depends on. Exits 1 with one line
// per problem.
//   node check.mjs OVERLAY=FILE.yaml ...
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

const problems = [];
const fail = (where, what) => problems.push(`${where}: ${what}`);

// The package that has the models of an apiVersion: Kubernetes' own, or the
// Prometheus Operator's CRDs.
const modelPackage = (apiVersion) =>
  apiVersion.startsWith("monitoring.coreos.com/")
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;

async function validateSchema(where, obj) {
  let mod;
  try {
    mod = await import(modelPackage(obj.apiVersion));
  } catch {
    return fail(where, `unknown apiVersion ${obj.apiVersion}`);
  }
  const Model = mod[obj.kind];
  if (!Model) return fail(where, `unknown kind ${obj.kind} in ${obj.apiVersion}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    fail(where, `schema: ${e.message.split("\n").slice(0, 4).join(" ")}`);
  }
}

// The schemas allow unknown fields, which the API server would drop in
// silence (a misspelt field is a setting that is not there). TypeScript's
// excess-property check against the models' types finds them: each object
// becomes a typed literal, compiled with no output.
function checkFields(objects) {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = mkdtempSync(join(here, ".typecheck-"));
  try {
    const lines = [];
    objects.forEach(([where, obj], i) => {
      lines.push(`import type { I${obj.kind} as T${i} } from "${modelPackage(obj.apiVersion)}/${obj.kind}";`);
      lines.push(`// ${where}\nexport const o${i}: T${i} = ${JSON.stringify(obj, null, 1)};`);
    });
    const file = join(dir, "objects.ts");
    writeFileSync(file, lines.join("\n"));
    const program = ts.createProgram([file], {
      noEmit: true, strict: true, skipLibCheck: true, module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2020,
    });
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
      let where = "typecheck";
      if (d.file && d.start !== undefined) {
        const before = d.file.text.slice(0, d.start);
        where = before.slice(before.lastIndexOf("// ") + 3).split("\n")[0];
      }
      fail(where, `fields: ${text.slice(0, 300)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// JSON with object keys sorted: equal values, equal text.
const canon = (value) => JSON.stringify(value, (_, v) =>
  v && typeof v === "object" && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
    : v);
const subset = (small = {}, big = {}) =>
  Object.entries(small).every(([k, v]) => big[k] === v);
const sameLabels = (a = {}, b = {}) => subset(a, b) && subset(b, a);
const flagValue = (args, name) => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 3);
};
const portOf = (address) => (address === undefined ? undefined : Number(address.split(":").pop()));

// extraIngress: rules an overlay adds to the NetworkPolicy, as
// { peers, ports } with named or numbered ports.
function checkOverlay(name, objects, extraIngress) {
  const of = (kind, pred = () => true) => objects.filter((o) => o.kind === kind && pred(o));
  const one = (kind, pred, label) => {
    const found = of(kind, pred);
    if (found.length !== 1) fail(name, `want exactly one ${label ?? kind}, found ${found.length}`);
    return found[0];
  };
  const deploy = one("Deployment");
  const clusterIp = one("Service", (s) => s.spec.clusterIP !== "None", "ClusterIP Service");
  const headless = one("Service", (s) => s.spec.clusterIP === "None", "headless Service");
  const hpa = one("HorizontalPodAutoscaler");
  const pdb = one("PodDisruptionBudget");
  const netpol = one("NetworkPolicy");
  if (!deploy) return;
  const where = `${name}: Deployment ${deploy.metadata.name}`;
  const pod = deploy.spec.template;
  const podLabels = pod.metadata.labels ?? {};
  const selector = deploy.spec.selector.matchLabels ?? {};
  if (!subset(selector, podLabels)) fail(where, "selector does not match the pod template labels");

  // Every selector picks exactly the Deployment's pods.
  for (const s of [clusterIp, headless].filter(Boolean)) {
    if (!sameLabels(s.spec.selector, selector)) {
      fail(`${name}: Service ${s.metadata.name}`, "selector differs from the Deployment's");
    }
  }
  if (pdb && !sameLabels(pdb.spec.selector?.matchLabels, selector)) {
    fail(`${name}: PodDisruptionBudget`, "selector differs from the Deployment's");
  }
  if (netpol && !sameLabels(netpol.spec.podSelector?.matchLabels, selector)) {
    fail(`${name}: NetworkPolicy`, "podSelector differs from the Deployment's selector");
  }

  const c = pod.spec.containers.find((x) => x.name === "danegated");
  if (!c) return fail(where, "no container danegated");
  const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  const numbers = new Set(ports.values());
  const resolve = (p) => (typeof p === "string" ? ports.get(p) : p);
  const args = c.args ?? [];
  const listen = portOf(flagValue(args, "listen"));
  const health = portOf(flagValue(args, "health-listen"));
  const metrics = portOf(flagValue(args, "metrics-listen"));
  if (listen !== ports.get("grpc")) fail(where, `--listen port ${listen} is not containerPort grpc`);
  if (health === undefined || health !== ports.get("health")) {
    fail(where, `--health-listen port ${health} is not containerPort health`);
  }
  if (metrics !== ports.get("metrics")) fail(where, `--metrics-listen is not containerPort metrics`);

  // Native gRPC probes, on the port danegated serves health on.
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const p = c[probe];
    if (!p?.grpc) { fail(where, `${probe} is not a gRPC probe`); continue; }
    if (resolve(p.grpc.port) !== health) {
      fail(where, `${probe} port ${p.grpc.port} is not the --health-listen port ${health}`);
    }
  }
  if (c.readinessProbe?.grpc?.service) fail(where, "readinessProbe must ask service \"\"");
  if (c.livenessProbe?.grpc?.service !== "liveness") {
    fail(where, "livenessProbe must ask service \"liveness\" (readiness follows DNS health)");
  }

  // Services and policies point at ports the container has.
  for (const s of [clusterIp, headless].filter(Boolean)) {
    for (const p of s.spec.ports) {
      const target = resolve(p.targetPort ?? p.port);
      if (!numbers.has(target)) {
        fail(`${name}: Service ${s.metadata.name}`, `port ${p.name} targets ${p.targetPort}, not a container port`);
      }
    }
    if (!s.spec.ports.some((p) => resolve(p.targetPort) === listen)) {
      fail(`${name}: Service ${s.metadata.name}`, "does not expose the gRPC port");
    }
  }
  // The NetworkPolicy, rule by rule and exactly: who may reach which port.
  // (A check that a label key merely exists let through a policy whose peer
  // selectors kustomize had rewritten, admitting no client and no
  // Prometheus.)
  if (netpol) {
    const rules = (list, peer) => (list ?? []).map((r) => ({
      peers: r[peer] ?? [],
      ports: (r.ports ?? []).map((p) => ({ port: resolve(p.port) ?? p.port, protocol: p.protocol ?? "TCP" })),
    }));
    const wantIngress = [
      { peers: [{ namespaceSelector: {}, podSelector: { matchLabels: { "danegate.io/client": "true" } } }],
        ports: [{ port: listen, protocol: "TCP" }] },
      { peers: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
                  podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
        ports: [{ port: metrics, protocol: "TCP" }] },
      ...(extraIngress ?? []).map((r) => ({ ...r, ports: r.ports.map((p) => ({ ...p, port: resolve(p.port) ?? p.port })) })),
    ];
    const wantEgress = [
      { peers: [], ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
    ];
    const types = [...(netpol.spec.policyTypes ?? [])].sort();
    if (canon(types) !== canon(["Egress", "Ingress"])) {
      fail(`${name}: NetworkPolicy`, `policyTypes ${types} are not Ingress and Egress`);
    }
    const gotIngress = rules(netpol.spec.ingress, "from");
    if (canon(gotIngress) !== canon(wantIngress)) {
      fail(`${name}: NetworkPolicy`, `ingress ${canon(gotIngress)} is not ${canon(wantIngress)}`);
    }
    const gotEgress = rules(netpol.spec.egress, "to");
    if (canon(gotEgress) !== canon(wantEgress)) {
      fail(`${name}: NetworkPolicy`, `egress ${canon(gotEgress)} is not DNS alone`);
    }
  }

  // Monitoring (optional): the ServiceMonitor finds a Service of these pods
  // with the metrics port, and the alerts are there.
  const monitors = of("ServiceMonitor");
  for (const m of monitors) {
    const scraped = [clusterIp, headless].filter(Boolean).filter((s) =>
      subset(m.spec.selector?.matchLabels, s.metadata.labels) &&
      m.spec.endpoints.every((e) => s.spec.ports.some((p) => p.name === e.port && resolve(p.targetPort) === metrics)));
    if (scraped.length === 0) {
      fail(`${name}: ServiceMonitor ${m.metadata.name}`, "selects no Service of danegated's pods with the metrics port");
    }
  }
  if (monitors.length > 0 && of("PrometheusRule").length !== 1) {
    fail(name, "a ServiceMonitor without the PrometheusRule of alerts");
  }

  // The HPA scales this Deployment, within bounds that include its replicas.
  if (hpa) {
    const t = hpa.spec.scaleTargetRef;
    if (t.kind !== "Deployment" || t.name !== deploy.metadata.name || t.apiVersion !== "apps/v1") {
      fail(`${name}: HorizontalPodAutoscaler`, `targets ${t.apiVersion} ${t.kind} ${t.name}, not the Deployment`);
    }
    const min = hpa.spec.minReplicas ?? 1;
    if (min > hpa.spec.maxReplicas) fail(`${name}: HorizontalPodAutoscaler`, "minReplicas > maxReplicas");
    if (deploy.spec.replicas < min || deploy.spec.replicas > hpa.spec.maxReplicas) {
      fail(where, `replicas ${deploy.spec.replicas} outside the HPA's ${min}..${hpa.spec.maxReplicas}`);
    }
    if (!c.resources?.requests?.cpu) fail(where, "the HPA needs a CPU request");
  }
  // The budget lets a node drain go on.
  if (pdb) {
    const { minAvailable, maxUnavailable } = pdb.spec;
    if (minAvailable !== undefined && minAvailable >= deploy.spec.replicas) {
      fail(`${name}: PodDisruptionBudget`, `minAvailable ${minAvailable} blocks every eviction at ${deploy.spec.replicas} replicas`);
    }
    if (maxUnavailable !== undefined && maxUnavailable < 1) fail(`${name}: PodDisruptionBudget`, "maxUnavailable < 1");
  }

  // Security context.
  const sc = c.securityContext ?? {};
  const podSc = pod.spec.securityContext ?? {};
  if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) fail(where, "runAsNonRoot is not set");
  if (sc.allowPrivilegeEscalation !== false) fail(where, "allowPrivilegeEscalation is not false");
  if (sc.readOnlyRootFilesystem !== true) fail(where, "readOnlyRootFilesystem is not true");
  if (sc.privileged) fail(where, "privileged");
  if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(where, "capabilities are not all dropped");
  for (const kind of ["requests", "limits"]) {
    for (const r of ["cpu", "memory"]) if (!c.resources?.[kind]?.[r]) fail(where, `no ${r} ${kind}`);
  }

  // Flag files come from the ConfigMap that is mounted where args read them.
  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const flagLines = [];
  for (const arg of args.filter((a) => a.startsWith("--flagfile="))) {
    const file = arg.slice("--flagfile=".length);
    const dir = file.slice(0, file.lastIndexOf("/"));
    const volume = volumes.get(mounts.get(dir));
    const cm = volume?.configMap && of("ConfigMap", (m) => m.metadata.name === volume.configMap.name)[0];
    const text = cm?.data?.[file.slice(dir.length + 1)];
    if (text === undefined) { fail(where, `${arg}: no such key in a mounted ConfigMap`); continue; }
    flagLines.push(...text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")));
  }
  const allFlags = [...args, ...flagLines];
  // Graceful termination: the kubelet waits longer than danegated's drain.
  const grace = flagValue(allFlags, "grace-period") ?? "10s";
  const graceSeconds = Number(grace.replace(/s$/, ""));
  if (!((pod.spec.terminationGracePeriodSeconds ?? 30) > graceSeconds)) {
    fail(where, `terminationGracePeriodSeconds must exceed --grace-period=${grace}`);
  }
  const tls = flagValue(allFlags, "tls-cert") !== undefined;
  const plaintext = allFlags.includes("--unsafe-plaintext-on-network");
  if (tls === plaintext) fail(where, "transport must be either TLS or explicitly plaintext");
  for (const f of ["tls-cert", "tls-key", "client-ca", "trust-anchor"]) {
    const path = flagValue(allFlags, f);
    if (path === undefined) continue;
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (!mounts.has(dir)) fail(where, `--${f}=${path} is not on a mounted volume`);
  }
  return { deploy, tls, plaintext, flags: allFlags };
}

async function main() {
  const fromVms = { peers: [{ ipBlock: { cidr: "192.0.2.0/24" } }],
                    ports: [{ port: "grpc", protocol: "TCP" }] };
  const expectations = {
    production: { minReplicas: 3, mtls: true },
    "production-monitored": { minReplicas: 3, mtls: true },
    // MTAs outside the cluster: their network on the gRPC port, through a
    // load balancer that keeps their address, and mutual TLS.
    external: { minReplicas: 3, mtls: true, extraIngress: [fromVms], loadBalancer: true },
  };
  for (const spec of process.argv.slice(2)) {
    const [name, file] = spec.split("=");
    const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
    for (const obj of docs) await validateSchema(`${name}: ${obj.kind} ${obj.metadata?.name}`, obj);
    checkFields(docs.map((obj) => [`${name}: ${obj.kind} ${obj.metadata?.name}`, obj]));
    const want = expectations[name];
    const got = checkOverlay(name, docs, want?.extraIngress);
    if (got && want) {
      if (got.deploy.spec.replicas < want.minReplicas) fail(name, `fewer than ${want.minReplicas} replicas`);
      if (want.mtls && !got.flags.some((f) => f.startsWith("--client-ca="))) fail(name, "no mutual TLS (--client-ca)");
      if (want.loadBalancer) {
        const lb = docs.find((o) => o.kind === "Service" && o.spec.type === "LoadBalancer");
        if (!lb) fail(name, "no LoadBalancer Service");
        else if (lb.spec.externalTrafficPolicy !== "Local") {
          fail(name, "the LoadBalancer must keep client addresses (externalTrafficPolicy Local) for the ipBlock rule");
        }
      }
    }
    console.log(`${name}: ${docs.length} objects checked`);
  }
  if (problems.length) {
    for (const p of problems) console.error(`FAIL ${p}`);
    process.exit(1);
  }
  console.log("deploy checks: ok");
}

await main();
