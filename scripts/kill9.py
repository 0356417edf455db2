#!/usr/bin/env python3
# usage: python3 scripts/kill9.py target/release/service-console [rounds]
"""Rounds (20 by default) of kill -9 during a create storm: every acknowledged create must survive,
and no two Services may share a cluster IP or node port."""
import json, random, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

BIN = sys.argv[1]; ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
data = tempfile.mkdtemp(prefix="kill9-")
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def start():
    port = free_port()
    p = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--no-demo", "--service-cidr", "10.96.0.0/12"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            urllib.request.urlopen(url + "/readyz", timeout=1).read(); return p, url
        except Exception: time.sleep(0.05)
    raise SystemExit("server did not start")
acked = set(); total_acked = 0
for r in range(ROUNDS):
    proc, url = start()
    stop = threading.Event(); lock = threading.Lock(); mine = []
    def worker(t):
        i = 0
        while not stop.is_set():
            name = f"r{r}-t{t}-{i}"; i += 1
            kind = "NodePort" if i % 40 == 0 else "ClusterIP"
            body = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                               "spec": {"type": kind, "selector": {"app": "x"}, "ports": [{"port": 80}]}}).encode()
            req = urllib.request.Request(url + "/api/v1/namespaces/default/services", data=body,
                                         headers={"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 201:
                        with lock: mine.append(name)
            except Exception:
                pass
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for t in threads: t.start()
    time.sleep(random.uniform(1.0, 3.0))
    proc.send_signal(signal.SIGKILL); proc.wait(); stop.set()
    for t in threads: t.join()
    acked.update(mine); total_acked += len(mine)
    proc, url = start()
    items = json.load(urllib.request.urlopen(url + "/api/v1/services", timeout=60))["items"]
    names = {i["metadata"]["name"] for i in items}
    lost = acked - names
    ips = [i["spec"].get("clusterIP") for i in items if i["spec"].get("clusterIP") not in (None, "", "None")]
    ports = [p["nodePort"] for i in items for p in i["spec"]["ports"] if p.get("nodePort")]
    dup_ips = len(ips) - len(set(ips)); dup_ports = len(ports) - len(set(ports))
    print(f"round {r+1}: acked {len(mine)} this round, {len(acked)} in all; stored {len(names)}; lost {len(lost)}; duplicate IPs {dup_ips}, node ports {dup_ports}", flush=True)
    proc.send_signal(signal.SIGTERM); proc.wait()
    if lost or dup_ips or dup_ports:
        print("FAILED", sorted(lost)[:5]); sys.exit(1)
print(f"{ROUNDS} kill -9 rounds: {total_acked} acknowledged creates, none lost, no duplicate allocation")
