#!/usr/bin/env bash
# RSS with 20,000 Services and after deleting them all; run from the project root after
# `cargo build --release` (uses ../shared/bench/lib.sh).
source "$(dirname "$0")/../../shared/bench/lib.sh"
start_server --service-cidr 10.96.0.0/12 --no-demo
api=$SRV_URL/api/v1/namespaces/default
body=$(mktemp); echo '{"apiVersion":"v1","kind":"Service","metadata":{"generateName":"peak-"},"spec":{"selector":{"app":"bench"},"ports":[{"port":80}]}}' > $body
echo "RSS at start $(rss_mib $SRV_PID) MiB"
ab -k -q -n 20000 -c 16 -p "$body" -T application/json "$api/services" 2>&1 | grep "Requests per"
sleep 10; echo "RSS with 20,000 Services $(rss_mib $SRV_PID) MiB"
python3 - "$api" <<'PY'
import json, sys, urllib.request, concurrent.futures
api = sys.argv[1]
names = [i["metadata"]["name"] for i in json.load(urllib.request.urlopen(api + "/services"))["items"] if i["metadata"]["name"].startswith("peak-")]
def delete(n):
    urllib.request.urlopen(urllib.request.Request(f"{api}/services/{n}", method="DELETE")).read()
with concurrent.futures.ThreadPoolExecutor(16) as pool: list(pool.map(delete, names))
print(f"deleted {len(names)}")
PY
sleep 15; echo "RSS after deleting them $(rss_mib $SRV_PID) MiB"
stop_server
