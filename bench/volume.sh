#!/usr/bin/env bash
# Block storage: a volume made from a 1 GiB image (cinder-api to "available": the image's bytes fetched from
# the image service and written with O_DIRECT into the file backend's volume file), beside the physical limit of
# the same machine, in one run: a plain copy of the same bytes on the same disk (cp of the image service's file),
# also with the sync that puts its bytes on the disk as the volume's are.
# Then resident memory of the block storage node (cinder-api, -scheduler and -volume in one process; the identity
# and the image service run in processes of their own), idle and at its peak during the create.
# Last, attach and detach as a running QEMU guest sees them (bench/volume_attach.py): from `POST os-volume_attachments`
# to the volume's serial in the guest's list of disks, and from the DELETE to its leaving it.
# Usage: bench/volume.sh [SIZE_MIB] [ROUNDS]     (SKIP_ATTACH=1 to leave out the guest)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mib=${1:-1024}
rounds=${2:-3}
pass=bench-Pa55word addr=127.87.0.2
work=$(mktemp -d)
pids=()
# Guests outlive their compute host (as with Nova): a run that stopped early leaves its guest, stopped here.
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pkill -f "qemu-system.*$work/" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rss_mib() { # resident memory of a process and its children, in MiB
  local total=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    total=$((total + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}

now() { date +%s.%N; }

"$here/stratus" node init --config-dir "$work/node" --region RegionOne --address $addr --password $pass >/dev/null
# One controller's files in three nodes on one address: the identity, the image service, block storage.
for n in identity image volume; do cp -r "$work/node" "$work/$n"; done
rm -rf "$work/identity"/{glance,nova,placement,neutron,dashboard,cinder} "$work/image"/{keystone,nova,placement,neutron,dashboard,cinder} \
  "$work/volume"/{keystone,glance,nova,placement,neutron,dashboard}
start() { "$here/stratus" node start --config-dir "$work/$1" >"$work/$1.log" 2>&1 & pids+=($!); }
start identity
until curl -sf "http://$addr:5000/v3" >/dev/null; do sleep 0.2; done
start image
start volume
vpid=${pids[2]}
until curl -sf "http://$addr:9292/versions" >/dev/null && curl -sf "http://$addr:8776/" >/dev/null; do sleep 0.2; done
curl -si "http://$addr:5000/v3/auth/tokens" -H 'Content-Type: application/json' -d '{"auth":{"identity":{"methods":["password"],
  "password":{"user":{"name":"admin","domain":{"id":"default"},"password":"'$pass'"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}' \
  >"$work/token"
token=$(awk 'tolower($1)=="x-subject-token:"{print $2}' "$work/token" | tr -d '\r')
project=$(tail -1 "$work/token" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"]["project"]["id"])')
api() { curl -sf -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -H 'OpenStack-API-Version: volume 3.70' "$@"; }

# Random bytes: nothing for a sparse file or a compressor to skip.
head -c $((mib * 1048576)) /dev/urandom >"$work/image.raw"
image=$(api -X POST "http://$addr:9292/v2/images" -d '{"name":"bench","disk_format":"raw","container_format":"bare"}' \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api -X PUT -H 'Content-Type: application/octet-stream' -T "$work/image.raw" "http://$addr:9292/v2/images/$image/file" >/dev/null
rm -f "$work/image.raw"
store=$(awk -F' *= *' '$1=="filesystem_store_datadir"{print $2}' "$work/image/glance/glance-api.conf")
stored="${store%/}/$image"
[[ -f $stored ]] || { echo "the image's file is not at $stored"; exit 1; }
gib=$(((mib + 1023) / 1024))
sleep 2
echo "== block storage node idle RSS $(rss_mib "$vpid") MiB; image of $mib MiB; $rounds rounds"
printf '%-34s %10s %10s\n' "round" "seconds" "MiB/s"
peak=0
for r in $(seq "$rounds"); do
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now); cp "$stored" "$work/copy.raw"; t1=$(now); sync; t2=$(now)
  printf '%-34s %10.2f %10.0f\n' "plain copy (cp), round $r" "$(echo "$t1 - $t0" | bc)" "$(echo "$mib / ($t1 - $t0)" | bc -l)"
  # cp leaves its bytes in the page cache; the volume's are on the disk when it is available (O_DIRECT).
  printf '%-34s %10.2f %10.0f\n' "plain copy then sync, round $r" "$(echo "$t2 - $t0" | bc)" "$(echo "$mib / ($t2 - $t0)" | bc -l)"
  rm -f "$work/copy.raw"
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(now)
  id=$(api -X POST "http://$addr:8776/v3/$project/volumes" -d '{"volume":{"size":'$gib',"imageRef":"'$image'"}}' \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["volume"]["id"])')
  status=creating
  while [[ $status != available && $status != error ]]; do
    rss=$(rss_mib "$vpid"); ((rss > peak)) && peak=$rss
    sleep 0.05
    status=$(api "http://$addr:8776/v3/$project/volumes/$id" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["volume"]["status"])')
  done
  t1=$(now)
  [[ $status == available ]] || { echo "volume $id ended in error"; tail -20 "$work/volume.log"; exit 1; }
  printf '%-34s %10.2f %10.0f\n' "volume from image, round $r" "$(echo "$t1 - $t0" | bc)" "$(echo "$mib / ($t1 - $t0)" | bc -l)"
  api -X DELETE "http://$addr:8776/v3/$project/volumes/$id" >/dev/null
  while api "http://$addr:8776/v3/$project/volumes/$id" >/dev/null 2>&1; do sleep 0.1; done
done
echo "block storage node peak RSS during creates: $peak MiB, after: $(rss_mib "$vpid") MiB"

if [[ -z ${SKIP_ATTACH:-} ]]; then
  "$here/stratus" test-image --output "$work/test.qcow2" >/dev/null
  "$here/stratus" node init --config-dir "$work/all" --region RegionOne --address 127.87.0.3 --password $pass >/dev/null
  "$here/stratus" node start --config-dir "$work/all" >"$work/all.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -qx ready "$work/all.log" && break; sleep 0.1; done
  grep -qx ready "$work/all.log" || { echo "bench: node did not start"; cat "$work/all.log"; exit 1; }
  echo "== attach to a running guest (TCG), $rounds rounds"
  printf '%-34s %10s %10s %10s\n' "" "attach s" "API s" "detach s"
  /usr/bin/python3 "$here/bench/volume_attach.py" "http://127.87.0.3:5000/v3" "$pass" "$work/test.qcow2" "$rounds"
fi
