"""Attach and detach latency as the guest sees it (see volume.sh): from the API call to the disk appearing in, or leaving,
a running QEMU guest, which reports its virtio disks' serials on its console every 0.25 s (user data on a config drive).

Usage: volume_attach.py AUTH_URL PASSWORD IMAGE_FILE ROUNDS
"""
import base64
import os
import sys
import time

from compute_common import COMPUTE, login, percentile, request, upload_image

auth_url, password, image_file, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(os.path.join(os.path.dirname(__file__), "../tests/Stratus.Testing/watch-disks.sh"), "rb") as f:
    WATCHER = f.read()
VOLUME = {"OpenStack-API-Version": "volume 3.70"}
token, project, ep = login(auth_url, password)
nova, cinder = ep["compute"], ep["volumev3"]
_, _, flavor = request("POST", nova + "/flavors", token, {"flavor": {"name": "attach", "ram": 128, "vcpus": 1, "disk": 1}})
with open(image_file, "rb") as f:
    image = upload_image(ep["image"], token, "test", f.read())
_, _, server = request("POST", nova + "/servers", token, {"server": {
    "name": "attach", "flavorRef": flavor["flavor"]["id"], "imageRef": image, "networks": "none", "config_drive": True,
    "user_data": base64.b64encode(WATCHER).decode()}}, COMPUTE)
sid = server["server"]["id"]


def console():
    _, _, out = request("POST", f"{nova}/servers/{sid}/action", token, {"os-getConsoleOutput": {"length": -1}}, COMPUTE)
    return (out or {}).get("output", "")


def last_disks_line():
    lines = [line for line in console().splitlines() if "stratus: disks:" in line]
    return lines[-1] if lines else ""


def wait(what, done, why, limit=300):
    start = time.perf_counter()
    value = None
    while time.perf_counter() - start < limit:
        value = what()
        if done(value):
            return value
        time.sleep(0.05)
    raise SystemExit(f"bench: timed out waiting for {why}; last seen: {value}")


wait(lambda: request("GET", f"{nova}/servers/{sid}", token, headers=COMPUTE)[2]["server"]["status"], lambda s: s == "ACTIVE", "the server")
# The watcher starts before the login prompt; it prints nothing while the list stays as it was at boot.
wait(console, lambda out: "login: stratus test image ready" in out, "the guest's login prompt")
_, _, volume = request("POST", f"{cinder}/volumes", token, {"volume": {"size": 1, "name": "attach"}}, VOLUME)
vid = volume["volume"]["id"]
serial = vid[:20]  # virtio-blk keeps the first 20 bytes of the serial


def volume_status():
    return request("GET", f"{cinder}/volumes/{vid}", token, headers=VOLUME)[2]["volume"]["status"]


wait(volume_status, lambda s: s == "available", "the volume")
attach, answered, detach = [], [], []
for r in range(rounds):
    start = time.perf_counter()
    request("POST", f"{nova}/servers/{sid}/os-volume_attachments", token, {"volumeAttachment": {"volumeId": vid}}, COMPUTE)
    # Nova's API answers once the compute host has plugged the disk (its reserve and attach calls); the rest is the guest.
    answered.append(time.perf_counter() - start)
    wait(last_disks_line, lambda line: serial in line, "the disk in the guest")
    attach.append(time.perf_counter() - start)
    wait(volume_status, lambda s: s == "in-use", "in-use")
    start = time.perf_counter()
    request("DELETE", f"{nova}/servers/{sid}/os-volume_attachments/{vid}", token, headers=COMPUTE)
    wait(last_disks_line, lambda line: serial not in line, "the disk to leave the guest")
    detach.append(time.perf_counter() - start)
    wait(volume_status, lambda s: s == "available", "available")
    print(f"{'attach / detach, round ' + str(r + 1):34s} {attach[-1]:10.2f} {answered[-1]:10.2f} {detach[-1]:10.2f}")
request("DELETE", f"{nova}/servers/{sid}", token, headers=COMPUTE)
print(f"attach to the disk in the guest: p50 {percentile(attach, 50):.2f} s, max {max(attach):.2f} s "
      f"(the API answered in p50 {percentile(answered, 50):.2f} s); "
      f"detach to the disk gone: p50 {percentile(detach, 50):.2f} s, max {max(detach):.2f} s "
      "(the guest looks every 0.25 s, the console is read every 0.05 s)")
