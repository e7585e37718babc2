"""What the compute benchmarks share: a project-scoped admin token and endpoints from its catalog."""
import json
import os
import urllib.request


def request(method, url, token=None, body=None, headers=None, raw=None):
    """One HTTP request; returns (status, headers, parsed JSON or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("X-Auth-Token", token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            text = r.read()
            return r.status, r.headers, json.loads(text) if text and r.headers.get_content_type().endswith("json") else None
    except urllib.error.HTTPError as e:
        raise SystemExit(f"bench: {method} {url} -> {e.code}: {e.read().decode(errors='replace')}")


def login(auth_url, password, region="RegionOne"):
    """Returns (token, project_id, {service type: public URL in region})."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    _, headers, doc = request("POST", auth_url + "/auth/tokens", body=body)
    endpoints = {}
    for service in doc["token"]["catalog"]:
        for e in service["endpoints"]:
            if e["interface"] == "public" and e["region_id"] == region:
                endpoints[service["type"]] = e["url"].rstrip("/")
    return headers["X-Subject-Token"], doc["token"]["project"]["id"], endpoints


def rss_mib(pid):
    """Resident memory of a process and its children, in MiB."""
    total = 0
    pids = [str(pid)]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += f.read().split()
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total // 1024


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def upload_image(image_url, token, name, data, disk_format="qcow2"):
    _, _, image = request("POST", image_url + "/v2/images", token, {
        "name": name, "disk_format": disk_format, "container_format": "bare", "visibility": "public"})
    request("PUT", f"{image_url}/v2/images/{image['id']}/file", token, raw=data,
            headers={"Content-Type": "application/octet-stream"})
    return image["id"]


COMPUTE = {"OpenStack-API-Version": "compute 2.37", "X-OpenStack-Nova-API-Version": "2.37"}
os.environ.setdefault("no_proxy", "*")
