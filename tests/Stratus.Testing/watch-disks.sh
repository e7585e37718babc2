#!/bin/sh
# User data for the test image: prints "stratus: disks: [serials]" whenever the guest's virtio disks change (a volume's
# serial is the start of its id), for ten minutes, in the background so that the boot goes on. Used by the tests
# (GuestScripts.DiskWatcher) and by bench/volume_attach.py.
(
  before=""
  for i in $(seq 1 2400); do
    now=$(cat /sys/block/vd*/serial 2>/dev/null | tr '\n' ' ')
    [ "$now" != "$before" ] && echo "stratus: disks: [$now]"
    before=$now
    sleep 0.25
  done
) &
