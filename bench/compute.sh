#!/usr/bin/env bash
# Compute at scale and real boots, through ./stratus itself:
#  1. scale: one controller (nova-api, scheduler, conductor, placement, identity, image) and 10 compute
#     nodes with the fake driver, all in one `node start` process on the in-process bus; 1,000 servers
#     created over the API by 16 clients; seconds until all are ACTIVE, and the API's p50/p99 meanwhile
#     (the creates and the clients' polling GETs);
#  2. boot: with the QEMU driver, seconds from `POST /servers` to the test image's marker on the
#     console, beside the same QEMU booting the same image by hand (the overhead is the difference);
#     then the same boot on a network with DHCP: to the lease on the console and to the marker.
# Usage: bench/compute.sh [SERVERS] [COMPUTE_NODES]     (SKIP_BOOT=1 / SKIP_SCALE=1 to run one part)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
servers=${1:-1000} nodes=${2:-10}
pass=bench-Pa55word addr=127.89.0.2
work=$(mktemp -d /tmp/stratus-bench-compute.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$here/stratus" help >/dev/null

wait_ready() { # LOG: until `node start` says every service is up
  for _ in $(seq 600); do grep -qx ready "$1" && return; sleep 0.1; done
  echo "bench: node did not start:" >&2; cat "$1" >&2; exit 1
}

if [[ -z ${SKIP_SCALE:-} ]]; then
  dirs=(--config-dir "$work/controller")
  "$here/stratus" node init --config-dir "$work/controller" --region RegionOne --address "$addr" --password "$pass" \
    --role controller --host controller --transport-url inproc://bench >/dev/null
  for i in $(seq "$nodes"); do
    "$here/stratus" node init --config-dir "$work/compute$i" --region RegionOne --address "127.89.1.$i" --password "$pass" \
      --role compute --host "compute$i" --controller "$addr" --identity-url "http://$addr:5000/v3" --transport-url inproc://bench >/dev/null
    sed -i 's/^compute_driver = .*/compute_driver = fake.FakeDriver/' "$work/compute$i/nova/nova.conf"
    dirs+=(--config-dir "$work/compute$i")
  done
  "$here/stratus" node start "${dirs[@]}" >"$work/scale.log" 2>&1 &
  pids+=($!); node=$!
  wait_ready "$work/scale.log"
  /usr/bin/python3 "$here/bench/compute_scale.py" "http://$addr:5000/v3" "$pass" "$servers" "$nodes" "$node"
  kill "$node"; wait "$node" 2>/dev/null || true
fi

if [[ -z ${SKIP_BOOT:-} ]]; then
  image=$work/test.qcow2
  "$here/stratus" test-image --output "$image" >/dev/null
  # Bare QEMU: the command line Stratus's driver would run, started by hand, to the same marker.
  bare_start=$(date +%s.%N)
  qemu-system-x86_64 -machine pc -accel tcg -m 128 -smp 1 -nodefaults -display none -serial "file:$work/bare.log" \
    -drive "file=$image,format=qcow2,if=none,id=d0,snapshot=on" -device virtio-blk-pci,drive=d0,bootindex=0 </dev/null 2>/dev/null &
  qemu=$!
  for _ in $(seq 2400); do grep -q "login: stratus test image ready" "$work/bare.log" 2>/dev/null && break; sleep 0.05; done
  bare_end=$(date +%s.%N)
  kill "$qemu"; wait "$qemu" 2>/dev/null || true
  "$here/stratus" node init --config-dir "$work/boot" --region RegionOne --address 127.89.0.3 --password "$pass" >/dev/null
  "$here/stratus" node start --config-dir "$work/boot" >"$work/boot.log" 2>&1 &
  pids+=($!); node=$!
  wait_ready "$work/boot.log"
  /usr/bin/python3 "$here/bench/compute_boot.py" "http://127.89.0.3:5000/v3" "$pass" "$image" \
    "$(awk -v s="$bare_start" -v e="$bare_end" 'BEGIN{printf "%.2f", e-s}')"
fi
