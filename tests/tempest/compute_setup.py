#!/usr/bin/python3
"""What Tempest's compute tests need on a fresh node: the compute host up, two flavors and two images.

Usage: compute_setup.py ADDRESS ADMIN_PASSWORD; prints the [compute] keys for tempest.conf.
"""
import sys

from setup_api import admin_token, call, wait

addr, password = sys.argv[1], sys.argv[2]


identity = f"http://{addr}:5000/v3"
wait("compute_setup", "identity", lambda: call("GET", identity))
token = admin_token(addr, password)
compute = f"http://{addr}:8774/v2.1"
wait("compute_setup", "nova-compute", lambda: any(h["state"] == "up" for h in call("GET", compute + "/os-hypervisors", token=token)[1]["hypervisors"]))

flavors = []
for flavor_id, name, ram, disk in (("42", "m1.tempest", 128, 1), ("84", "m1.tempest-alt", 192, 1)):
    call("POST", compute + "/flavors", {"flavor": {"id": flavor_id, "name": name, "ram": ram, "vcpus": 1, "disk": disk}}, token)
    flavors.append(flavor_id)

glance = f"http://{addr}:9292/v2"
images = []
for name in ("tempest-image", "tempest-image-alt"):
    _, image = call("POST", glance + "/images", {"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public"}, token)
    call("PUT", f"{glance}/images/{image['id']}/file", token=token, raw=b"\0" * 4096, content_type="application/octet-stream")
    images.append(image["id"])

print(f"""[compute]
image_ref = {images[0]}
image_ref_alt = {images[1]}
flavor_ref = {flavors[0]}
flavor_ref_alt = {flavors[1]}""")
