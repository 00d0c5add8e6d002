#!/bin/bash
# SPDX-License-Identifier: MIT
# Reproduction of a vfio-pci-bind style script, written for the benchmarks from the
# documented behaviour of such scripts (vfio-pci-bind's README), not copied:
#   vfio-pci-bind.sh [VENDOR:DEVICE] DOMAIN:BUS:DEVICE.FUNCTION
#   - checks the address's shape and that the device exists;
#   - with VENDOR:DEVICE, checks the device still has that id and refuses otherwise
#     (PCI addresses move when cards are added);
#   - finds the device's IOMMU group and, for every member except PCI bridges:
#     writes vfio-pci to driver_override, unbinds the member from its current driver
#     unless that is vfio-pci already, and asks drivers_probe to probe it again.
# It reads attributes with cat, readlink and basename as such scripts do.
# Benchmark changes: the sysfs root is $SYSFS instead of /sys; the final wait for
# /dev/vfio/GROUP is left out, since nothing binds in a fake tree.
SYSFS=${SYSFS:-/sys}

die() { echo "vfio-pci-bind: $*" >&2; exit 1; }

if [ $# -eq 2 ]; then
	want=$1
	dev=$2
elif [ $# -eq 1 ]; then
	want=
	dev=$1
else
	die "usage: vfio-pci-bind.sh [VENDOR:DEVICE] DOMAIN:BUS:DEVICE.FUNCTION"
fi

[[ $dev =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || die "bad address $dev"
devdir=$SYSFS/bus/pci/devices/$dev
[ -e "$devdir" ] || die "no device at $dev"

if [ -n "$want" ]; then
	vendor=$(cat "$devdir/vendor")
	device=$(cat "$devdir/device")
	have=${vendor#0x}:${device#0x}
	[ "$have" = "$want" ] || die "$dev is $have, not $want"
fi

[ -L "$devdir/iommu_group" ] || die "$dev has no IOMMU group: is the IOMMU on?"
group=$(basename "$(readlink "$devdir/iommu_group")")

for member in "$SYSFS/kernel/iommu_groups/$group/devices/"*; do
	addr=$(basename "$member")
	mdir=$SYSFS/bus/pci/devices/$addr
	class=$(cat "$mdir/class")
	if [[ $class == 0x0604* ]]; then
		echo "skipping bridge $addr"
		continue
	fi
	echo vfio-pci >"$mdir/driver_override"
	if [ -L "$mdir/driver" ]; then
		driver=$(basename "$(readlink "$mdir/driver")")
		if [ "$driver" != vfio-pci ]; then
			echo "$addr" >"$mdir/driver/unbind"
		fi
	fi
	echo "$addr" >"$SYSFS/bus/pci/drivers_probe"
	echo "$addr -> vfio-pci (group $group)"
done
