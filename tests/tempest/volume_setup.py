#!/usr/bin/python3
"""What Tempest's volume tests need on a fresh node: a valid raw image to make volumes from.

Usage: volume_setup.py ADDRESS ADMIN_PASSWORD; prints the keys for tempest.conf.
"""
import sys

from setup_api import admin_token, answers, call, wait

addr, password = sys.argv[1], sys.argv[2]


wait("volume_setup", "block storage", lambda: answers(f"http://{addr}:8776/"))
token = admin_token(addr, password)
glance = f"http://{addr}:9292/v2"
# A raw disk of 1 MiB: cinder-volume converts it with qemu-img, which a few zero bytes labelled qcow2 would fail.
_, image = call("POST", glance + "/images", {"name": "tempest-volume-image", "disk_format": "raw", "container_format": "bare", "visibility": "public"}, token)
call("PUT", f"{glance}/images/{image['id']}/file", token=token, raw=b"\0" * 1048576, content_type="application/octet-stream")
print(f"""[compute]
image_ref = {image['id']}
image_ref_alt = {image['id']}""")
