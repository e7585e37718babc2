#!/usr/bin/env bash
# Runs every Stratus test. Installs, with apt, what the tests drive when it is missing:
# the real OpenStack client and Tempest (acceptance tests), PostgreSQL and MariaDB (database tests), RabbitMQ,
# QEMU, SYSLINUX, mtools and dosfstools (compute tests), Chromium (dashboard tests, driven by Playwright).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

need=()
command -v openstack >/dev/null || need+=(python3-openstackclient)
/usr/bin/python3 -c 'import openstack' 2>/dev/null || need+=(python3-openstacksdk)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v flock >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
command -v memcached >/dev/null || need+=(memcached)
# The DHCP agent tests run dnsmasq (and dhcp_release) in namespaces and ask it for leases with busybox udhcpc.
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v dhcp_release >/dev/null || need+=(dnsmasq-utils)
command -v busybox >/dev/null || need+=(busybox)
# The L3 agent's routers (NAT in qrouter namespaces) and the Linux bridge agent's security groups are nftables;
# gratuitous ARPs with iputils arping, as Neutron's.
command -v nft >/dev/null || need+=(nftables)
# Removing a security group rule cuts the flows it let in with conntrack, as Neutron's firewall does.
command -v conntrack >/dev/null || need+=(conntrack)
command -v arping >/dev/null || need+=(iputils-arping)
# The metadata proxies in qdhcp/qrouter namespaces are haproxy, as Neutron's; config drives are made with genisoimage, as Nova's.
command -v haproxy >/dev/null || need+=(haproxy)
command -v genisoimage >/dev/null || need+=(genisoimage)
# The message bus and multi-host compute tests start a real RabbitMQ broker.
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || need+=(rabbitmq-server)
command -v tempest >/dev/null || need+=(tempest python3-stestr)
# The compute tests build the test image and boot it under QEMU.
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v syslinux >/dev/null || need+=(syslinux)
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || need+=(syslinux-common)
command -v mcopy >/dev/null || need+=(mtools)
[[ -x /sbin/mkfs.fat ]] || need+=(dosfstools)
# The dashboard tests drive Debian's Chromium through Playwright (never a downloaded browser).
[[ -x /usr/bin/chromium ]] || need+=(chromium)
if ((${#need[@]})); then
  echo "test.sh: installing ${need[*]}" >&2
  sudo_cmd=(); [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q -o DPkg::Lock::Timeout=900 "${need[@]}" >/dev/null
fi

# The acceptance tests run ./stratus itself: build it first so they do not race to.
"$here/stratus" help >/dev/null
dotnet test "$here/Stratus.slnx" -c Release --nologo "$@"
