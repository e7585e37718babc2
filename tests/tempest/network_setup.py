#!/usr/bin/python3
"""What Tempest's network tests need on a fresh node: an external network with a subnet, and the extensions.

Usage: network_setup.py ADDRESS ADMIN_PASSWORD [FIXED_NETWORK]; prints the [network] and [network-feature-enabled]
keys for tempest.conf. The external network is a flat one on the physical network "provider", as devstack's
"public"; its data plane is never wired to the machine's uplink. With FIXED_NETWORK (the compute suite), also a
shared network of that name with a subnet routed to "public", for every test server ([compute] fixed_network_name).
"""
import sys

from setup_api import admin_token, call, wait

addr, password = sys.argv[1], sys.argv[2]
fixed_network = sys.argv[3] if len(sys.argv) > 3 else None


network = f"http://{addr}:9696/v2.0"
wait("network_setup", "the network service", lambda: call("GET", f"http://{addr}:9696/"), interval=0.3)
token = admin_token(addr, password)
_, public = call("POST", network + "/networks", {"network": {
    "name": "public", "router:external": True, "provider:network_type": "flat", "provider:physical_network": "provider"}}, token)
public_id = public["network"]["id"]
call("POST", network + "/subnets", {"subnet": {
    "network_id": public_id, "ip_version": 4, "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1", "enable_dhcp": False}}, token)
if fixed_network:
    _, private = call("POST", network + "/networks", {"network": {"name": fixed_network, "shared": True}}, token)
    _, subnet = call("POST", network + "/subnets", {"subnet": {
        "network_id": private["network"]["id"], "ip_version": 4, "cidr": "10.1.0.0/20", "name": fixed_network + "-subnet"}}, token)
    _, router = call("POST", network + "/routers", {"router": {
        "name": fixed_network + "-router", "external_gateway_info": {"network_id": public_id}}}, token)
    call("PUT", f"{network}/routers/{router['router']['id']}/add_router_interface", {"subnet_id": subnet["subnet"]["id"]}, token)
_, extensions = call("GET", network + "/extensions", token=token)
aliases = ",".join(sorted(e["alias"] for e in extensions["extensions"]))
print(f"""[network]
public_network_id = {public_id}
floating_network_name = public
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_network_v6_cidr = 2001:db8::/48
project_network_v6_mask_bits = 64
[network-feature-enabled]
ipv6 = true
ipv6_subnet_attributes = true
api_extensions = {aliases}
port_security = true""")
if fixed_network:
    print(f"""[compute]
fixed_network_name = {fixed_network}""")
