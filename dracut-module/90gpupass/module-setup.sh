#!/bin/bash
# SPDX-License-Identifier: MIT
# dracut module: gpupass binds chosen PCI devices to vfio-pci before anything in the image can
# load their host drivers.

check() {
	require_binaries gpupass || return 1
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
	# What this image holds, for gpupass check: here, since dracut runs each module's
	# install() before its installkernel(). force_drivers and rd.driver.pre= are loaded
	# before udev (after gpupass: see install()); dracut adds them to the image later.
	# shellcheck disable=SC2154 # dracut's own: the image, its kernel, directory and lists
	# shellcheck disable=SC2086
	/usr/lib/gpupass/gpupass-manifest.sh dracut "$kernel" "$outfile" "$initdir" "" \
		$force_drivers $kernel_cmdline || :
}

# shellcheck disable=SC2154 # dracut sets initdir and systemdsystemunitdir for its modules
install() {
	# /usr/sbin or /usr/bin (Fedora 42 merged them): the image keeps /usr/sbin/gpupass, the
	# path gpupass.service and the boot wrapper run.
	inst_simple "$(find_binary gpupass)" /usr/sbin/gpupass
	# Not inst_simple -H: host-only files are removed at boot under rd.hostonly=0.
	if [ -e /etc/gpupass.conf ]; then
		inst_simple /etc/gpupass.conf
	fi
	# The modprobe.d lines for the vfio modules (vfio-options says why): dracut copies
	# /etc/modprobe.d only in host-only mode, and Debian's images are generic.
	local opts
	opts=$(/usr/lib/gpupass/vfio-options)
	if [ -n "$opts" ]; then
		mkdir -p "$initdir/etc/modprobe.d"
		printf '%s\n' "$opts" >"$initdir/etc/modprobe.d/gpupass-vfio.conf"
	fi
	# The same test dracut's kernel-modules module makes to choose who loads rd.driver.pre.
	if dracut_module_included systemd; then
		# A systemd initrd starts systemd-modules-load.service with no ordering against
		# dracut's hook services, so a hook comes too late: the unit orders itself before
		# every loader (see its comments). Enabled the way dracut's own modules do it.
		inst_simple /usr/lib/gpupass/gpupass.service "$systemdsystemunitdir/gpupass.service"
		$SYSTEMCTL -q --root "$initdir" enable gpupass.service
	else
		# Shell /init: the cmdline hook 01-parse-kernel.sh loads rd.driver.pre= and
		# force_drivers modules, before any pre-udev hook. 00 sorts first (hooks are sourced
		# in glob order), so those drivers find the devices already claimed.
		inst_hook cmdline 00 /usr/lib/gpupass/gpupass-bind.sh
	fi
}
