#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# dracut: real dracut images (systemd in the initramfs) for Debian 12 and 13 kernels, booted in
# QEMU.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load lib/boot
load lib/matrix

GEN=dracut
# Also dracut's own shell /init, as on distributions without systemd. And the card's host
# drivers forced in before udev: by a modules-load.d file (systemd), by rd.driver.pre= (shell
# /init); gpupass must still get the card first.
# The two forcing cases run with both releases' dracut (059 and 106).
IMAGES+=("shellinit pinned.conf shellinit" "modload pinned.conf modload")
MAIN_IMAGES+=" shellinit modload"
FORCED_CASES=(
	"modload modload"
	"shellpre shellinit rd.driver.pre=bochs,snd_hda_intel"
)
MAIN_CASES+=("${FORCED_CASES[@]}")
FULL_CASES+=("${FORCED_CASES[@]}" "shellinit shellinit")
# Each release's dracut, as lsinitrd reads it from the image ("Version: dracut-106-6").
declare -gA DRACUT_OF=([bookworm]=059 [trixie]=106)

setup_file() {
	matrix_setup $GEN
}

# contents SUITE IMAGE: the file list of one image.
contents() {
	lsinitrd "$(image_path $GEN "$1" "$2")" | awk '$1 ~ /^[-dlcbps][-rwxsStT]+$/ { print $9 }'
}

# cmdline_hooks SUITE IMAGE: the image's cmdline hooks, in the order /init sources them.
cmdline_hooks() {
	contents "$1" "$2" | sed -n 's,^\(\(usr\|var\)/\)\?lib/dracut/hooks/cmdline/,,p' | LC_ALL=C sort
}

image_has_package() {
	run contents "$1" pinned
	assert_success
	assert_line usr/sbin/gpupass
	assert_line etc/gpupass.conf
	# systemd: the unit, enabled; no hook.
	assert_line --regexp '^(usr/)?lib/systemd/system/gpupass\.service$'
	assert_line --regexp '^etc/systemd/system/sysinit\.target\.wants/gpupass\.service$'
	assert_line --regexp 'systemd/system/dracut-pre-udev\.service$'
	refute_line --regexp 'dracut/hooks/.*gpupass'
	assert_line --regexp "kernel/drivers/vfio/pci/vfio-pci\.ko"
	assert_line --regexp "kernel/drivers/vfio/pci/vfio-pci-core\.ko"
	assert_line --regexp "kernel/drivers/vfio/vfio_iommu_type1\.ko"
	assert_line --regexp "kernel/virt/lib/irqbypass\.ko"
	assert_line --regexp "kernel/drivers/gpu/drm/tiny/bochs\.ko"
}

@test "6.1 image: binary, config, the unit enabled and no hook, vfio modules with vfio_virqfd" {
	image_has_package $MAIN_SUITE
	assert_line --regexp "kernel/drivers/vfio/vfio_virqfd\.ko$"
}

@test "6.12 image: binary, config, the unit enabled and no hook, vfio modules, no vfio_virqfd" {
	image_has_package $FULL_SUITE
	assert_line --regexp "kernel/drivers/vfio/vfio\.ko(\.xz)?$"
	refute_line --regexp "vfio_virqfd"
}

@test "each kernel's images are built by its release's dracut: 6.1 by 059, 6.12 by 106" {
	local suite
	for suite in $MAIN_SUITE $FULL_SUITE; do
		run lsinitrd "$(image_path $GEN $suite pinned)"
		assert_success
		assert_line --regexp "^Version: dracut-${DRACUT_OF[$suite]:-unknown}-"
	done
}

@test "images carry the config, the unit and the wrapper as given, and no config when there is none" {
	local img unit
	img=$(image_path $GEN $FULL_SUITE pinned)
	run lsinitrd -f etc/gpupass.conf "$img"
	assert_output "$(cat "$BOOT_BUILD/conf/pinned.conf")"
	unit=$(contents $FULL_SUITE pinned | grep -m1 'systemd/system/gpupass\.service$')
	run lsinitrd -f "$unit" "$img"
	assert_output "$(cat "$REPO/hook/gpupass.service")"
	img=$(image_path $GEN $FULL_SUITE shellinit)
	run lsinitrd -f "$(contents $FULL_SUITE shellinit | grep -m1 'hooks/cmdline/00-gpupass-bind\.sh$')" "$img"
	assert_output "$(cat "$REPO/hook/gpupass-bind.sh")"
	run contents $FULL_SUITE none
	refute_line etc/gpupass.conf
	assert_line usr/sbin/gpupass
}

@test "host-only images carry the vfio modules too" {
	kernel_root $FULL_SUITE
	run build_dracut hostonly "$BOOT_BUILD/conf/pinned.conf" hostonly
	assert_success
	run contents $FULL_SUITE hostonly
	assert_line usr/sbin/gpupass
	assert_line --regexp "kernel/drivers/vfio/pci/vfio-pci\.ko"
	assert_line --regexp "kernel/drivers/vfio/vfio_iommu_type1\.ko"
}

@test "shell /init image: the cmdline hook, sorted before parse-kernel.sh; no unit, no systemd" {
	run contents $FULL_SUITE shellinit
	assert_line usr/sbin/gpupass
	refute_line --regexp 'dracut-pre-udev\.service$'
	refute_line --regexp 'gpupass\.service$'
	refute_line --regexp 'hooks/pre-udev/.*gpupass'
	# The shell /init sources a phase's hooks in glob order: gpupass's must be the first.
	run cmdline_hooks $FULL_SUITE shellinit
	assert_line --index 0 00-gpupass-bind.sh
	assert_line 01-parse-kernel.sh
}

@test "images without vfio modules have none, on both kernels" { assert_novfio_images; }

@test "6.1: no config: the host drivers take every function" { case_control $GEN $MAIN_SUITE; }
@test "6.1: address pinned to id: the card's group on vfio-pci, the twin on bochs-drm" { case_pinned $GEN $MAIN_SUITE; }
@test "6.1: id only: both cards on vfio-pci" { case_id $GEN $MAIN_SUITE; }
@test "6.1: image without vfio modules: clear error, the host keeps the card" { case_novfio $GEN $MAIN_SUITE; }
@test "6.1: modules-load.d names bochs and snd_hda_intel: gpupass.service first, no unbind" { case_modload $GEN $MAIN_SUITE; }
@test "6.1, shell /init: rd.driver.pre=bochs,snd_hda_intel: the cmdline hook first, no unbind" { case_shellpre $GEN $MAIN_SUITE; }
@test "6.1: bochs has the card before gpupass.service runs: unbound from it, logged, the card on vfio-pci" { case_hostfirst $GEN $MAIN_SUITE; }
@test "6.1: vfio-pci loaded before gpupass.service runs: the card on vfio-pci through drivers_probe, no unbind" { case_preload $GEN $MAIN_SUITE; }
@test "6.1: modprobe vfio-pci hangs: killed after gpupass.timeout=, the boot goes on, nothing unbound, the host keeps the card" { case_hang $GEN $MAIN_SUITE; }
@test "6.12: no config: the host drivers take every function" { case_control $GEN $FULL_SUITE; }
@test "6.12: address pinned to id: the card's group on vfio-pci, the twin on bochs-drm" { case_pinned $GEN $FULL_SUITE; }
@test "6.12: id only: both cards on vfio-pci" { case_id $GEN $FULL_SUITE; }
@test "6.12: image without vfio modules: clear error, the host keeps the card" { case_novfio $GEN $FULL_SUITE; }
@test "6.12, shell /init: address pinned to id: the card's group on vfio-pci" { case_shellinit $GEN $FULL_SUITE; }
@test "6.12: modules-load.d names bochs and snd_hda_intel: gpupass.service first, no unbind" { case_modload $GEN $FULL_SUITE; }
@test "6.12, shell /init: rd.driver.pre=bochs,snd_hda_intel: the cmdline hook first, no unbind" { case_shellpre $GEN $FULL_SUITE; }
@test "6.12: gpupass=off: nothing bound, says disabled" { case_off $GEN $FULL_SUITE; }
@test "6.12: gpupass=dry-run: nothing bound, the plan logged" { case_dryrun $GEN $FULL_SUITE; }
@test "6.12: config with syntax errors: nothing bound, every error logged" { case_syntax $GEN $FULL_SUITE; }
@test "6.12: target in the chipset group: refused and named, host keeps it" { case_chipset $GEN $FULL_SUITE; }
@test "6.12: pinned id no longer matches: nothing bound, says why" { case_moved $GEN $FULL_SUITE; }
@test "6.12: bochs has the card before gpupass.service runs: unbound from it, logged, the card on vfio-pci" { case_hostfirst $GEN $FULL_SUITE; }
@test "6.12: vfio-pci loaded before gpupass.service runs: the card on vfio-pci through drivers_probe, no unbind" { case_preload $GEN $FULL_SUITE; }
@test "6.12: modprobe vfio-pci hangs: killed after gpupass.timeout=, the boot goes on, nothing unbound, the host keeps the card" { case_hang $GEN $FULL_SUITE; }
