#!/bin/sh
# SPDX-License-Identifier: MIT
# Reproduction of the Arch wiki "vfio-pci-override.sh" recipe (PCI passthrough via OVMF,
# binding with driver_override), written for the benchmarks from its documented behaviour,
# not copied:
#   - the user lists the devices to pass through in a variable;
#   - only when the IOMMU is on (something under /sys/class/iommu, tested with `ls -A`),
#     for each listed device, every entry of its iommu_group/devices (listed with `ls`)
#     gets "vfio-pci" written to its driver_override, bridges included;
#   - then `modprobe -i vfio-pci`.
# Run from an initramfs hook before the GPU driver loads, so it unbinds nothing.
# Benchmark changes: the sysfs root is $SYSFS instead of /sys, the devices come as
# arguments, and $MODPROBE (the benchmark sets /bin/true) stands for modprobe so that
# nothing on the host is loaded.
SYSFS=${SYSFS:-/sys}
MODPROBE=${MODPROBE:-modprobe}

if [ -n "$(ls -A "$SYSFS/class/iommu")" ]; then
	for dev in "$@"; do
		# shellcheck disable=SC2045 # the recipe lists with ls: its cost is what is measured
		for member in $(ls "$SYSFS/bus/pci/devices/$dev/iommu_group/devices"); do
			echo vfio-pci >"$SYSFS/bus/pci/devices/$member/driver_override"
		done
	done
fi
$MODPROBE -i vfio-pci
