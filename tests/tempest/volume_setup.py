#!/usr/bin/python3
"""What Tempest's volume tests need on a fresh node: a valid raw image to make volumes from.

Usage: volume_setup.py ADDRESS ADMIN_PASSWORD; prints the keys for tempest.conf.
"""
import json
import sys
import time
import urllib.error
import urllib.request

addr, password = sys.argv[1], sys.argv[2]


def call(method, url, body=None, token=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return r.headers, (json.loads(text) if text else None)


deadline = time.time() + 120
while True:
    try:
        call("GET", f"http://{addr}:8776/")
        break
    except urllib.error.HTTPError:
        break  # the versions document answers 300
    except (urllib.error.URLError, OSError):
        if time.time() > deadline:
            sys.exit("volume_setup: block storage not ready after 120 s")
        time.sleep(0.5)

identity = f"http://{addr}:5000/v3"
headers, _ = call("POST", identity + "/auth/tokens", {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": password}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
token = headers["X-Subject-Token"]
glance = f"http://{addr}:9292/v2"
# A raw disk of 1 MiB: cinder-volume converts it with qemu-img, which a few zero bytes labelled qcow2 would fail.
_, image = call("POST", glance + "/images", {"name": "tempest-volume-image", "disk_format": "raw", "container_format": "bare", "visibility": "public"}, token)
call("PUT", f"{glance}/images/{image['id']}/file", token=token, raw=b"\0" * 1048576, content_type="application/octet-stream")
print(f"""[compute]
image_ref = {image['id']}
image_ref_alt = {image['id']}""")
