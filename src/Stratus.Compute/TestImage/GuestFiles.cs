namespace Stratus.Compute.TestImage;

/// <summary>
/// The test image's userland, CirrOS-like: busybox init runs <c>/etc/rc</c>, which loads the virtio
/// drivers, configures every NIC by DHCP, asks the metadata service briefly, prints
/// <see cref="TestImageBuilder.ReadyMarker"/>, and leaves a root shell on the serial console.
/// The ACPI power button powers the guest off, so clean shutdowns work; a kernel panic is reported to
/// QEMU through pvpanic.
/// </summary>
static class GuestFiles
{
    /// <summary>In dependency order: the initramfs has no modprobe and no modules.dep.</summary>
    public static readonly string[] Modules =
    [
        "virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
        "virtio_blk", "failover", "net_failover", "virtio_net", "button", "evdev", "pvpanic", "pvpanic-mmio", "cdrom", "isofs",
    ];

    public const string Inittab = """
        ::sysinit:/bin/busybox sh /etc/rc
        ttyS0::respawn:-/bin/sh
        ::ctrlaltdel:/bin/busybox reboot
        ::shutdown:/bin/busybox echo "stratus: shutting down"

        """;

    public static string Rc => $$"""
        #!/bin/busybox sh
        /bin/busybox --install -s
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
        hostname stratus
        # Alt+SysRq+C crashes the kernel on demand, so tests can see a crash reported (pvpanic).
        echo 1 > /proc/sys/kernel/sysrq
        for m in {{string.Join(' ', Modules)}}; do
          insmod /lib/modules/$m.ko || echo "stratus: could not load $m"
        done
        acpid
        ip link set lo up
        nics=0
        for dev in /sys/class/net/*; do
          nic=${dev##*/}
          [ "$nic" = lo ] && continue
          nics=$((nics + 1))
          ip link set "$nic" up
          udhcpc -i "$nic" -s /etc/udhcpc.script -n -q -t 10 -T 1 -O staticroutes -O mtu >/dev/null 2>&1 || echo "stratus: no DHCP lease on $nic"
        done
        echo "stratus: $nics network interface(s)"
        ip -o addr show scope global | while read -r n nic family address rest; do echo "stratus: $nic $family $address"; done
        # As CirrOS: the config drive (an ISO 9660 disk labelled config-2) first, else the metadata service
        # (under timeout: Debian 12's static busybox wget crashes on its own -T).
        mkdir -p /mnt/config
        for dev in /sys/block/vd*; do
          mount -t iso9660 -o ro "/dev/${dev##*/}" /mnt/config 2>/dev/null || continue
          [ -f /mnt/config/openstack/latest/meta_data.json ] && break
          umount /mnt/config
        done
        if [ -f /mnt/config/openstack/latest/meta_data.json ]; then
          echo "stratus: config drive: found"
          cp /mnt/config/openstack/latest/meta_data.json /run/meta_data.json
          [ -f /mnt/config/openstack/latest/user_data ] && cp /mnt/config/openstack/latest/user_data /run/user_data
          # As CirrOS: the personality files meta_data.json lists go where their paths say.
          grep -o '"path": *"[^"]*", *"content_path": *"[^"]*"' /run/meta_data.json | while read -r f; do
            p=$(echo "$f" | sed 's/^"path": *"\([^"]*\)".*/\1/')
            mkdir -p "${p%/*}"
            cp "/mnt/config/openstack$(echo "$f" | sed 's/.*"content_path": *"\([^"]*\)"$/\1/')" "$p" && echo "stratus: file: $p"
          done
        elif [ "$nics" -gt 0 ] && timeout 5 wget -q -O /run/meta_data.json http://169.254.169.254/openstack/latest/meta_data.json 2>/dev/null; then
          echo "stratus: metadata service: found"
          timeout 5 wget -q -O /run/user_data http://169.254.169.254/openstack/latest/user_data 2>/dev/null || rm -f /run/user_data
        else
          echo "stratus: metadata: not available"
        fi
        if [ -f /run/meta_data.json ]; then
          name=$(sed -n 's/.*"hostname": *"\([^"]*\)".*/\1/p' /run/meta_data.json)
          [ -n "$name" ] && hostname "$name"
          echo "stratus: instance-id: $(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /run/meta_data.json)"
          echo "stratus: hostname: $(hostname)"
          echo "stratus: metadata: $(cat /run/meta_data.json)"
        fi
        # As CirrOS: user data that is a script runs at boot, its output on the console.
        if [ -f /run/user_data ] && [ "$(head -c 2 /run/user_data)" = "#!" ]; then
          chmod +x /run/user_data
          echo "stratus: user data: running"
          /run/user_data 2>&1
          echo "stratus: user data: exited $?"
        fi
        echo "{{TestImageBuilder.ReadyMarker}}"

        """;

    /// <summary>udhcpc's hook: the lease's address, MTU, default route, classless static routes (metadata) and DNS.</summary>
    public const string UdhcpcScript = """
        #!/bin/sh
        case "$1" in
          deconfig)
            ip -4 addr flush dev "$interface"
            ;;
          bound|renew)
            ip -4 addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
            [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
            for r in $router; do ip route add default via "$r" dev "$interface" && break; done
            set -- $staticroutes
            while [ $# -ge 2 ]; do ip route add "$1" via "$2" dev "$interface"; shift 2; done
            : > /etc/resolv.conf
            for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
            ;;
        esac

        """;

    /// <summary>What busybox acpid runs on the power button (its default action for event PWRF).</summary>
    public const string PowerButton = """
        #!/bin/sh
        poweroff

        """;

    public const string SyslinuxConfig = """
        DEFAULT stratus
        PROMPT 0
        TIMEOUT 0
        LABEL stratus
          KERNEL /vmlinuz
          INITRD /initrd.gz
          APPEND console=ttyS0

        """;
}
