#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# initramfs-tools: real mkinitramfs images for Debian 12 and 13 kernels, booted in QEMU.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load lib/boot
load lib/matrix

GEN=initramfs-tools
# Each release's initramfs-tools, as the test hook records it in the image (dpkg's version).
declare -gA ITOOLS_OF=([bookworm]=0.142 [trixie]=0.148)

setup_file() {
	matrix_setup $GEN
}

# contents SUITE IMAGE: the file list of one image.
contents() {
	lsinitramfs "$(image_path $GEN "$1" "$2")"
}

# unpacked SUITE IMAGE: the image unpacked, for reading files in it. An image of more than one
# archive (Debian 13's keeps compressed modules in a first, uncompressed one) unpacks into
# early/ and main/: the files are in main/.
unpacked() {
	local dir=$BOOT_BUILD/unpacked/$GEN-$1-$2
	rm -rf "$dir"
	unmkinitramfs "$(image_path $GEN "$1" "$2")" "$dir" || return 1
	[ ! -d "$dir/main" ] || dir=$dir/main
	echo "$dir"
}

image_has_package() {
	run contents "$1" pinned
	assert_success
	assert_line usr/sbin/gpupass
	assert_line usr/lib/gpupass/gpupass-bind.sh
	assert_line scripts/init-top/gpupass
	assert_line etc/gpupass.conf
	assert_line --regexp "kernel/drivers/vfio/pci/vfio-pci\.ko"
	assert_line --regexp "kernel/drivers/vfio/pci/vfio-pci-core\.ko"
	assert_line --regexp "kernel/drivers/vfio/vfio_iommu_type1\.ko"
	assert_line --regexp "kernel/virt/lib/irqbypass\.ko"
	assert_line --regexp "kernel/drivers/gpu/drm/tiny/bochs\.ko"
}

@test "6.1 image: binary, config, boot script, vfio modules with vfio_virqfd" {
	image_has_package $MAIN_SUITE
	assert_line --regexp "kernel/drivers/vfio/vfio_virqfd\.ko$"
}

@test "6.12 image: binary, config, boot script, vfio modules, no vfio_virqfd" {
	image_has_package $FULL_SUITE
	assert_line --regexp "kernel/drivers/vfio/vfio\.ko(\.xz)?$"
	refute_line --regexp "vfio_virqfd"
}

@test "each kernel's images are built by its release's initramfs-tools: 6.1 by 0.142, 6.12 by 0.148" {
	local suite dir
	for suite in $MAIN_SUITE $FULL_SUITE; do
		dir=$(unpacked $suite pinned)
		run cat "$dir/etc/gptest-generator"
		assert_output --regexp "^initramfs-tools ${ITOOLS_OF[$suite]:-unknown}[.+]"
	done
}

@test "images carry the config as given, and none when there is none" {
	local dir
	dir=$(unpacked $FULL_SUITE pinned)
	cmp "$dir/etc/gpupass.conf" "$BOOT_BUILD/conf/pinned.conf"
	run contents $FULL_SUITE none
	refute_line etc/gpupass.conf
	assert_line usr/sbin/gpupass
}

@test "init-top ORDER runs gpupass before udev, on both kernels" {
	local suite dir
	for suite in $MAIN_SUITE $FULL_SUITE; do
		dir=$(unpacked $suite none)
		run grep -n -e '^/scripts/init-top/gpupass ' -e '^/scripts/init-top/udev ' \
			"$dir/scripts/init-top/ORDER"
		assert_success
		assert_line --index 0 --regexp '/scripts/init-top/gpupass '
		assert_line --index 1 --regexp '/scripts/init-top/udev '
	done
}

@test "images without vfio modules have none, on both kernels" { assert_novfio_images; }

@test "6.1: no config: the host drivers take every function" { case_control $GEN $MAIN_SUITE; }
@test "6.1: address pinned to id: the card's group on vfio-pci, the twin on bochs-drm" { case_pinned $GEN $MAIN_SUITE; }
@test "6.1: id only: both cards on vfio-pci" { case_id $GEN $MAIN_SUITE; }
@test "6.1: image without vfio modules: clear error, the host keeps the card" { case_novfio $GEN $MAIN_SUITE; }
@test "6.1: bochs has the card before gpupass runs: unbound from it, logged, the card on vfio-pci" { case_hostfirst $GEN $MAIN_SUITE; }
@test "6.1: vfio-pci loaded before gpupass runs: the card on vfio-pci through drivers_probe, no unbind" { case_preload $GEN $MAIN_SUITE; }
@test "6.1: modprobe vfio-pci hangs: killed after gpupass.timeout=, the boot goes on, nothing unbound, the host keeps the card" { case_hang $GEN $MAIN_SUITE; }
@test "6.12: no config: the host drivers take every function" { case_control $GEN $FULL_SUITE; }
@test "6.12: address pinned to id: the card's group on vfio-pci, the twin on bochs-drm" { case_pinned $GEN $FULL_SUITE; }
@test "6.12: id only: both cards on vfio-pci" { case_id $GEN $FULL_SUITE; }
@test "6.12: image without vfio modules: clear error, the host keeps the card" { case_novfio $GEN $FULL_SUITE; }
@test "6.12: gpupass=off: nothing bound, says disabled" { case_off $GEN $FULL_SUITE; }
@test "6.12: gpupass=dry-run: nothing bound, the plan logged" { case_dryrun $GEN $FULL_SUITE; }
@test "6.12: config with syntax errors: nothing bound, every error logged" { case_syntax $GEN $FULL_SUITE; }
@test "6.12: target in the chipset group: refused and named, host keeps it" { case_chipset $GEN $FULL_SUITE; }
@test "6.12: an id matching the chipset's SATA controller and its twin: neither bound, host boots" { case_twinsata $GEN $FULL_SUITE; }
@test "6.12: pinned id no longer matches: nothing bound, says why" { case_moved $GEN $FULL_SUITE; }
@test "6.12: release to the host drivers and claim back at runtime; a held group is refused" { case_switch $GEN $FULL_SUITE; }
@test "6.12: bochs has the card before gpupass runs: unbound from it, logged, the card on vfio-pci" { case_hostfirst $GEN $FULL_SUITE; }
@test "6.12: vfio-pci loaded before gpupass runs: the card on vfio-pci through drivers_probe, no unbind" { case_preload $GEN $FULL_SUITE; }
@test "6.12: modprobe vfio-pci hangs: killed after gpupass.timeout=, the boot goes on, nothing unbound, the host keeps the card" { case_hang $GEN $FULL_SUITE; }
