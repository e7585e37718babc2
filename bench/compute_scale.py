"""1,000 servers on fake compute nodes: time to ACTIVE and API latency meanwhile (see compute.sh)."""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from compute_common import COMPUTE, login, percentile, request, rss_mib, upload_image

auth_url, password, count, nodes, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
token, project, ep = login(auth_url, password)
nova = ep["compute"]
request("PUT", f"{nova}/os-quota-sets/{project}", token, {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
_, _, flavor = request("POST", nova + "/flavors", token, {"flavor": {"name": "bench", "ram": 64, "vcpus": 1, "disk": 0}})
image = upload_image(ep["image"], token, "bench", b"\0" * 65536, "raw")

# Every compute node up and in placement before the clock starts.
deadline = time.time() + 120
while True:
    _, _, services = request("GET", nova + "/os-services?binary=nova-compute", token)
    _, _, providers = request("GET", ep["placement"] + "/resource_providers", token)
    up = [s for s in services["services"] if s["state"] == "up"]
    if len(up) >= nodes and len(providers["resource_providers"]) >= nodes:
        break
    if time.time() > deadline:
        raise SystemExit(f"bench: only {len(up)} of {nodes} compute services up")
    time.sleep(0.5)

idle = rss_mib(pid)
creates, polls, peak = [], [], [idle]
done = threading.Event()


def create(i):
    t = time.perf_counter()
    request("POST", nova + "/servers", token, {"server": {
        "name": f"bench-{i}", "flavorRef": flavor["flavor"]["id"], "imageRef": image, "networks": "none"}}, COMPUTE)
    creates.append(time.perf_counter() - t)


def count_status(status):
    t = time.perf_counter()
    _, _, doc = request("GET", f"{nova}/servers?status={status}&limit={count + 1}", token, headers=COMPUTE)
    polls.append(time.perf_counter() - t)
    return len(doc["servers"])


def sample():
    while not done.is_set():
        peak.append(rss_mib(pid))
        time.sleep(0.2)


threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
with ThreadPoolExecutor(16) as pool:
    submitted = pool.map(create, range(count))
    list(submitted)
created = time.perf_counter() - start
while True:
    active, error = count_status("ACTIVE"), count_status("ERROR")
    if active + error >= count:
        break
    if time.perf_counter() - start > 600:
        break
    time.sleep(0.5)
total = time.perf_counter() - start
done.set()
_, _, hypervisors = request("GET", nova + "/os-hypervisors/detail", token, headers=COMPUTE)
spread = sorted(h["running_vms"] for h in hypervisors["hypervisors"])
ms = lambda v: f"{v * 1000:.0f} ms"
print(f"scale: {active} of {count} servers ACTIVE ({error} ERROR) in {total:.1f} s on {nodes} fake compute nodes "
      f"(all {count} POSTs answered in {created:.1f} s, 16 clients)")
print(f"  POST /servers p50 {ms(percentile(creates, 50))}, p99 {ms(percentile(creates, 99))}; "
      f"GET /servers p50 {ms(percentile(polls, 50))}, p99 {ms(percentile(polls, 99))}")
print(f"  servers per host {spread[0]}-{spread[-1]}; node memory {idle} MiB before, {max(peak)} MiB peak")
