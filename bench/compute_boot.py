"""Seconds from POST /servers to the test image's console marker, beside bare QEMU, and what a network adds:
the same boot on a network with DHCP, to the lease on the console and to the marker (see compute.sh)."""
import re
import sys
import time

from compute_common import COMPUTE, login, request, upload_image

auth_url, password, image_file, bare = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
MARKER = "login: stratus test image ready"
token, project, ep = login(auth_url, password)
nova = ep["compute"]
_, _, flavor = request("POST", nova + "/flavors", token, {"flavor": {"name": "boot", "ram": 128, "vcpus": 1, "disk": 1}})
with open(image_file, "rb") as f:
    image = upload_image(ep["image"], token, "test", f.read())


LEASE = re.compile(r"stratus: \S+ inet \d")


def boot(name, networks="none"):
    """Seconds to ACTIVE, to the marker and (on a network) to the guest's DHCP address on its console."""
    start = time.perf_counter()
    _, _, server = request("POST", nova + "/servers", token, {"server": {
        "name": name, "flavorRef": flavor["flavor"]["id"], "imageRef": image, "networks": networks}}, COMPUTE)
    sid = server["server"]["id"]
    active = lease = None
    while time.perf_counter() - start < 180:
        _, _, s = request("GET", f"{nova}/servers/{sid}", token, headers=COMPUTE)
        status = s["server"]["status"]
        if status == "ERROR":
            raise SystemExit(f"bench: {name} went to ERROR: {s['server'].get('fault')}")
        if status == "ACTIVE":
            active = active or time.perf_counter() - start
            _, _, out = request("POST", f"{nova}/servers/{sid}/action", token, {"os-getConsoleOutput": {"length": -1}}, COMPUTE)
            console = (out or {}).get("output", "")
            lease = lease or (time.perf_counter() - start if LEASE.search(console) else None)
            if MARKER in console:
                marker = time.perf_counter() - start
                request("DELETE", f"{nova}/servers/{sid}", token, headers=COMPUTE)
                if networks != "none" and lease is None:
                    raise SystemExit(f"bench: {name} got no DHCP lease:\n{console}")
                return active, marker, lease
        time.sleep(0.1)
    raise SystemExit(f"bench: no console marker from {name}")


# The first boot fills the host's image cache; the second is what a warm host does.
cold = boot("cold")
time.sleep(2)
warm = boot("warm")
print(f"boot: bare QEMU to the marker {bare:.2f} s; Stratus POST /servers to the marker {cold[1]:.2f} s cold "
      f"(ACTIVE after {cold[0]:.2f} s), {warm[1]:.2f} s warm (ACTIVE after {warm[0]:.2f} s): "
      f"overhead {warm[1] - bare:+.2f} s warm, {cold[1] - bare:+.2f} s cold")

# On a network: the port made and bound, the tap plugged, DHCP answering, the metadata service read.
neutron = ep["network"] + "/v2.0"
_, _, net = request("POST", neutron + "/networks", token, {"network": {"name": "bench"}})
request("POST", neutron + "/subnets", token, {"subnet": {"network_id": net["network"]["id"], "ip_version": 4, "cidr": "10.77.0.0/24"}})
time.sleep(2)
# The first boot on a network also pays the services' first logins as each other (a bcrypt check each: the compute
# host's as the network service's admin, the network service's as Nova's for network-vif-plugged); the second is what
# a running cloud does, and what is set beside the warm boot.
first = boot("network-first", [{"uuid": net["network"]["id"]}])
time.sleep(2)
wired = boot("network", [{"uuid": net["network"]["id"]}])
print(f"boot on a network: POST /servers to the DHCP lease on the console {wired[2]:.2f} s, to the marker {wired[1]:.2f} s "
      f"(ACTIVE after {wired[0]:.2f} s): the network adds {wired[1] - warm[1]:+.2f} s to the warm boot; "
      f"the node's first boot on a network: marker {first[1]:.2f} s (ACTIVE after {first[0]:.2f} s), {first[1] - warm[1]:+.2f} s")
