#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut module: gpupass binds chosen PCI devices to vfio-pci before udev starts.

check() {
	require_binaries /usr/sbin/gpupass || return 1
	return 0
}

depends() {
	return 0
}

installkernel() {
	# hostonly='': the host runs no driver for a device it hands to a VM, so host-only mode
	# would leave the vfio modules out. Names the kernel lacks are skipped (instmods without -c).
	# shellcheck disable=SC2046
	hostonly='' instmods $(sed 's/#.*//' /usr/lib/gpupass/modules)
}

install() {
	inst_simple /usr/sbin/gpupass
	# Not inst_simple -H: host-only files are removed at boot under rd.hostonly=0.
	if [ -e /etc/gpupass.conf ]; then
		inst_simple /etc/gpupass.conf
	fi
	inst_hook pre-udev 30 /usr/lib/gpupass/gpupass-bind.sh
}
