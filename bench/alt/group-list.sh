#!/bin/bash
# SPDX-License-Identifier: MIT
# Reproduction of the IOMMU group listing loop that passthrough guides (the Arch wiki's
# "Ensuring that the groups are valid" among them) ask users to run, written for the
# benchmarks from its documented behaviour, not copied:
#   - the group directories under /sys/kernel/iommu_groups, found with find and
#     ordered with sort -V;
#   - a header line per group, then one `lspci -nns ADDRESS` per member.
# Benchmark change: the sysfs root is $SYSFS, and lspci is pointed at the same tree
# with -A linux-sysfs -O sysfs.path=$SYSFS/bus/pci.
SYSFS=${SYSFS:-/sys}
shopt -s nullglob
for g in $(find "$SYSFS"/kernel/iommu_groups/* -maxdepth 0 -type d | sort -V); do
	echo "IOMMU Group ${g##*/}:"
	for d in "$g"/devices/*; do
		echo -e "\t$(lspci -A linux-sysfs -O sysfs.path="$SYSFS/bus/pci" -nns "${d##*/}")"
	done
done
