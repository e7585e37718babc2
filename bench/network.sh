#!/usr/bin/env bash
# Network API load, side by side in one run: Stratus's network service and the real Neutron Zed (Debian's
# neutron-server with ML2/linuxbridge on MariaDB, eventlet with 2 API workers, API only: the anchors'
# neutron/start.sh), with the same client (the anchors' neutron/bench.py): 1,000 port creates with 8
# clients, listing them, network lists at 8 and 32 clients, deletes; then resident memory.
# Stratus's network node runs neutron-server and its agents (Linux bridge, DHCP, metadata, L3) in one
# process, with the identity in another, so its memory figure is the network service's alone; then neutron-server
# alone, API only, as the Neutron beside it runs (SKIP_SERVER_ONLY=1 leaves that out).
# Usage: bench/network.sh [PORTS] [ROUNDS]   (SKIP_NEUTRON=1 measures Stratus alone)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
anchors=${ANCHORS:-$here/../shared/anchors}
ports=${1:-1000}
rounds=${2:-2}
pass=bench-Pa55word
work=$(mktemp -d)
chmod 711 "$work" # the anchor's neutron-server runs as user neutron, with its state in $work/neutron
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ ${SKIP_NEUTRON:-} == 1 ]] || S="$work/neutron" bash "$anchors/neutron/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

rss_mib() { # resident memory of a process and its children (FIELD=VmHWM: the most each has had)
  local total=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    total=$((total + $(awk -v f="${FIELD:-VmRSS}:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}
memory_after() { # right after the load, 3 s later (a node trims what the load left once it is quiet), and the peak
  local now; now=$(rss_mib "$1"); sleep 3
  echo "$now MiB, $(rss_mib "$1") MiB 3 s later, peak $(FIELD=VmHWM rss_mib "$1") MiB"
}

addr=127.89.0.1
"$here/stratus" node init --config-dir "$work/identity" --region RegionOne --address $addr --password $pass >/dev/null
# One controller's files, split in nodes on the same address: the identity, and the network service.
cp -r "$work/identity" "$work/network"
rm -rf "$work/identity"/{glance,nova,placement,neutron,dashboard,cinder} "$work/network"/{keystone,glance,nova,placement,dashboard,cinder}
"$here/stratus" node start --config-dir "$work/identity" >"$work/identity.log" 2>&1 &
pids+=($!)
until curl -sf "http://$addr:5000/v3" >/dev/null; do sleep 0.2; done
curl -si "http://$addr:5000/v3/auth/tokens" -H 'Content-Type: application/json' -d '{"auth":{"identity":{"methods":["password"],
  "password":{"user":{"name":"admin","domain":{"id":"default"},"password":"'$pass'"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}' \
  >"$work/token"
token=$(awk 'tolower($1)=="x-subject-token:"{print $2}' "$work/token" | tr -d '\r')
# The admin project's id: bench.py lifts that project's port quota (Neutron's default, 500, would stop 1,000 ports).
project=$(tail -1 "$work/token" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"]["project"]["id"])')

stratus_network() { # NAME SERVICES: a network node running SERVICES ([stratus] services of neutron.conf), loaded and measured
  local name=$1 npid
  rm -rf "$work/$name"; cp -r "$work/network" "$work/$name"
  sed -i "s/^services = .*/services = $2/" "$work/$name/neutron/neutron.conf"
  "$here/stratus" node start --config-dir "$work/$name" >"$work/$name.log" 2>&1 &
  npid=$!; pids+=($npid)
  until curl -sf "http://$addr:9696/" >/dev/null; do sleep 0.2; done
  sleep 3 # let start-up (and the JIT's background tiering) settle before the idle figure
  echo "== Stratus network service (SQLite), $name ($2) at http://$addr:9696, idle RSS $(rss_mib $npid) MiB"
  /usr/bin/python3 "$anchors/neutron/bench.py" "http://$addr:9696" --token "$token" --project-id "$project" --pid $npid --ports "$ports" --rounds "$rounds" \
    --json "$work/stratus-$name.json"
  echo "Stratus network service ($name) RSS after load: $(memory_after $npid)"
  kill $npid; wait $npid 2>/dev/null || true
}
# The whole network node as node init writes it: neutron-server and its Linux bridge, DHCP, metadata and L3 agents.
stratus_network node "$(awk -F' *= *' '$1=="services"{print $2}' "$work/network/neutron/neutron.conf")"
# neutron-server alone, as the Neutron beside it runs (API only): its agents are processes of their own in Neutron.
[[ -n ${SKIP_SERVER_ONLY:-} ]] || stratus_network server neutron-server

if [[ ${SKIP_NEUTRON:-} != 1 ]]; then
  echo
  qpid=$(MODE=eventlet S="$work/neutron" bash "$anchors/neutron/start.sh" | tail -1)
  echo "== Neutron Zed (Debian, eventlet, 2 API workers, MariaDB) at http://127.0.0.1:9797, idle RSS $(rss_mib "$qpid") MiB"
  /usr/bin/python3 "$anchors/neutron/bench.py" http://127.0.0.1:9797 --pid "$qpid" --db-pid "$(pidof mariadbd | cut -d' ' -f1)" \
    --ports "$ports" --rounds "$rounds" --json "$work/neutron.json"
  echo "Neutron RSS after load: $(memory_after "$qpid")"
fi
