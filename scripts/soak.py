#!/usr/bin/env python3
"""Soak a running `cansend serve` whose rules are a ConfigMap-style copy:
drive can-send, batch and send-options for MINUTES while the rule files
are rewritten every few hundred ms; print one JSON line of what happened.

    scripts/soak.py HOST:PORT PID RULES_DIR MINUTES

RULES_DIR has the layout a Kubernetes ConfigMap mount has, built by
scripts/soak.sh: `..data -> ..v<N>` (a full copy of the rules) and every
visible entry a link through `..data`. The churn, one step every 200-400 ms,
cycles through: a valid edit of a tenant file (saved by rename), a broken
edit (refused by the reload; the previous revision keeps serving), the
repair, and a `..data` swap to a fresh version (as the kubelet does: new
directory, new link, renamed over the old one). Standard library only.
"""
import http.client, json, os, random, shutil, sys, threading, time

addr, pid, rules, minutes = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
host, port = addr.rsplit(":", 1)
port = int(port)

single = open("scripts/load/single.json", "rb").read()
batch = json.dumps({"requests": [json.loads(single)] * 10}).encode()
options = json.dumps({"tenant": "demo-limits", "sender": {"role": "supervisor"},
                      "client": {"status": "existing", "channels": ["whatsapp", "viber"], "email": "anna@example.com"}}).encode()
ROUTES = [("/v1/can-send", single), ("/v1/can-send/batch", batch), ("/v1/send-options", options)]

stop = threading.Event()
lock = threading.Lock()
stats = {"requests": 0, "non_2xx": 0, "errors": 0, "by_route": {r: 0 for r, _ in ROUTES}, "bad": []}
latencies = []


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker(seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    mine = []
    while not stop.is_set():
        path, body = ROUTES[rnd.randrange(len(ROUTES))]
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            res = conn.getresponse()
            text = res.read()
            status = res.status
        except Exception as e:  # counted as a failure, and the connection renewed
            status, text = type(e).__name__, b""
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
        mine.append(time.perf_counter() - t0)
        with lock:
            stats["requests"] += 1
            stats["by_route"][path] += 1
            if status != 200:
                stats["non_2xx"] += 1
                if len(stats["bad"]) < 5:
                    stats["bad"].append(f"{path} {status} {text[:200]!r}")
    with lock:
        latencies.extend(mine)


def save(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def current_version():
    return os.path.join(rules, os.readlink(os.path.join(rules, "..data")))


def swap(n):
    """The kubelet's update: a new version directory, `..data` renamed onto it."""
    old = current_version()
    new = os.path.join(rules, f"..v{n}")
    shutil.copytree(old, new, symlinks=True)
    save(os.path.join(new, "tenants", "default.yaml"),
         f"kind: tenant\ntenant: default\ndescription: swapped in as version {n}.\n")
    link = os.path.join(rules, "..data_tmp")
    os.symlink(f"..v{n}", link)
    os.replace(link, os.path.join(rules, "..data"))
    shutil.rmtree(old)


def churn(counts):
    rnd = random.Random(7)
    step = 0
    while not stop.is_set():
        step += 1
        tenant = os.path.join(current_version(), "tenants", "default.yaml")
        kind = ("valid", "broken", "valid", "swap")[step % 4]
        if kind == "valid":
            save(tenant, f"kind: tenant\ntenant: default\ndescription: edit {step}.\n")
        elif kind == "broken":
            save(tenant, f"kind: tenant\ntenant: [broken {step}\n")
        else:
            swap(step)
        counts[kind] += 1
        time.sleep(rnd.uniform(0.2, 0.4))
    # Leave a valid set behind.
    save(os.path.join(current_version(), "tenants", "default.yaml"), "kind: tenant\ntenant: default\n")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def metrics():
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", "/metrics")
    return c.getresponse().read().decode()


m0 = metrics()
rss_start = rss_kib()
counts = {"valid": 0, "broken": 0, "swap": 0}
threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
writer = threading.Thread(target=churn, args=(counts,))
for t in threads + [writer]:
    t.start()
rss_samples = []
t_end = time.monotonic() + minutes * 60
while time.monotonic() < t_end:
    time.sleep(min(10, max(0, t_end - time.monotonic())))
    rss_samples.append(rss_kib())
stop.set()
for t in threads + [writer]:
    t.join()
time.sleep(2)  # the last reload settles
m1 = metrics()
key = 'cansend_rule_reloads_total{outcome="%s"}'
latencies.sort()
p = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6)
print(json.dumps({
    "minutes": minutes, "requests": stats["requests"], "by_route": stats["by_route"], "non_2xx": stats["non_2xx"],
    "first_failures": stats["bad"], "p50_us": p(0.50), "p99_us": p(0.99), "max_us": p(1.0),
    "edits": counts,
    "reloads_applied": metric(m1, key % "applied") - metric(m0, key % "applied"),
    "reloads_rejected": metric(m1, key % "rejected") - metric(m0, key % "rejected"),
    "rss_start_mib": round(rss_start / 1024, 1), "rss_end_mib": round(rss_kib() / 1024, 1),
    "rss_min_mib": round(min(rss_samples) / 1024, 1), "rss_max_mib": round(max(rss_samples) / 1024, 1),
}))
