#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# mkinitcpio (Arch Linux's generator): real images of Debian kernels with the package's hook,
# both flavours of /init, booted in QEMU. The mkinitcpio used and its adaptations to Debian:
# lib/mkinitcpio.bash.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load lib/boot
load lib/matrix
load lib/mkinitcpio

# Every case with both kernels: a boot is 8-12 s under TCG, an image 1-3 s.
# modules: the card's host drivers in MODULES=(), and udev's coldplug switched off (each
# flavour ignores the other's parameter), so that MODULES=() is the only thing loading drivers:
# the twin on bochs-drm then shows that they were loaded, the card on vfio-pci with no unbind
# that gpupass ran first.
MAIN_CASES=(
	"control none"
	"pinned pinned"
	"modules modules disablehooks=udev systemd.mask=systemd-udev-trigger.service"
	"off pinned gpupass=off"
)
FULL_CASES=("${MAIN_CASES[@]}")
IMAGES=(
	"none - -"
	"pinned pinned.conf -"
	"modules pinned.conf modules"
)
MAIN_IMAGES="none pinned modules"
FLAVOURS="busybox systemd"

setup_file() {
	mk_setup || return 1
	export MKINITCPIO MK_LIBDIR
	echo "# mkinitcpio: $MKINITCPIO" >&3
	for f in $FLAVOURS; do
		matrix_setup "mkinitcpio-$f" || return 1
	done
}

# contents FLAVOUR SUITE IMAGE: the file list of one image.
contents() {
	"$(dirname "$MKINITCPIO")/lsinitcpio" "$(image_path "mkinitcpio-$1" "$2" "$3")"
}

case_modules() {
	report "$1" "$2" modules || return 1
	assert_card_bound
	assert_driver $TWIN bochs-drm
	assert_status_ok
	if kmsg_gpupass | grep 'unbound from'; then
		fail "gpupass had to unbind a host driver: it ran after MODULES=()"
	fi
	# The image's /etc/modprobe.d/vfio.conf option, carried by the hook, not by modconf.
	section "vfio parameters" | grep -x 'vfio_pci disable_vga Y' >/dev/null ||
		fail "vfio_pci did not load with disable_vga=1: $(section "vfio parameters")"
}

@test "busybox image: binary, config, early hook, vfio modules, no unit" {
	run contents busybox $MAIN_SUITE pinned
	assert_success
	assert_line usr/bin/gpupass
	assert_line etc/gpupass.conf
	assert_line hooks/gpupass
	assert_line usr/lib/gpupass/gpupass-bind.sh
	assert_line --regexp 'kernel/drivers/vfio/pci/vfio-pci\.ko'
	assert_line --regexp 'kernel/drivers/vfio/vfio_virqfd\.ko'
	refute_line --regexp 'gpupass\.service'
	run "$(dirname "$MKINITCPIO")/lsinitcpio" -a "$(image_path mkinitcpio-busybox $MAIN_SUITE pinned)"
	assert_output --regexp 'Early hook run order:.*gpupass'
}

@test "systemd image: the shared unit, enabled, and no config when there is none" {
	run contents systemd $MAIN_SUITE none
	assert_success
	assert_line usr/bin/gpupass
	assert_line usr/lib/systemd/system/gpupass.service
	assert_line usr/lib/systemd/system/sysinit.target.wants/gpupass.service
	assert_line --regexp 'kernel/drivers/vfio/pci/vfio-pci\.ko'
	refute_line etc/gpupass.conf
	refute_line hooks/gpupass
	local dir=$BATS_TEST_TMPDIR/unpacked
	mkdir -p "$dir"
	(cd "$dir" && "$(dirname "$MKINITCPIO")/lsinitcpio" -x "$(image_path mkinitcpio-systemd $MAIN_SUITE none)")
	cmp "$dir/usr/lib/systemd/system/gpupass.service" "$REPO/hook/gpupass.service"
	run readlink "$dir/usr/lib/systemd/system/sysinit.target.wants/gpupass.service"
	assert_output ../gpupass.service
}

@test "6.12 images: vfio modules that exist, no vfio_virqfd" {
	for f in $FLAVOURS; do
		run contents $f $FULL_SUITE pinned
		assert_success
		assert_line --regexp 'kernel/drivers/vfio/pci/vfio-pci\.ko\.xz$'
		refute_line --regexp 'vfio_virqfd'
	done
}

@test "modules image: the card's host drivers in MODULES=(), the vfio option from modprobe.d" {
	local dir=$BATS_TEST_TMPDIR/unpacked
	mkdir -p "$dir"
	(cd "$dir" && "$(dirname "$MKINITCPIO")/lsinitcpio" -x "$(image_path mkinitcpio-busybox $MAIN_SUITE modules)")
	run grep '^MODULES=' "$dir/config"
	assert_output --partial 'bochs snd_hda_intel xhci_pci'
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && "$(dirname "$MKINITCPIO")/lsinitcpio" -x "$(image_path mkinitcpio-systemd $MAIN_SUITE modules)")
	run cat "$dir/etc/modules-load.d/MODULES.conf"
	assert_line bochs
	assert_line xhci_pci
	run cat "$dir/etc/modprobe.d/gpupass-vfio.conf"
	assert_line 'options vfio-pci disable_vga=1'
}

@test "busybox, 6.1: no config: the host drivers take every function" { case_control mkinitcpio-busybox $MAIN_SUITE; }
@test "busybox, 6.1: pinned card: its group on vfio-pci, the twin on bochs-drm" { case_pinned mkinitcpio-busybox $MAIN_SUITE; }
@test "busybox, 6.1: host drivers in MODULES=(): the card on vfio-pci, never unbound" { case_modules mkinitcpio-busybox $MAIN_SUITE; }
@test "busybox, 6.1: gpupass=off: nothing bound, says disabled" { case_off mkinitcpio-busybox $MAIN_SUITE; }
@test "busybox, 6.12: no config: the host drivers take every function" { case_control mkinitcpio-busybox $FULL_SUITE; }
@test "busybox, 6.12: pinned card: its group on vfio-pci, the twin on bochs-drm" { case_pinned mkinitcpio-busybox $FULL_SUITE; }
@test "busybox, 6.12: host drivers in MODULES=(): the card on vfio-pci, never unbound" { case_modules mkinitcpio-busybox $FULL_SUITE; }
@test "busybox, 6.12: gpupass=off: nothing bound, says disabled" { case_off mkinitcpio-busybox $FULL_SUITE; }
@test "systemd, 6.1: no config: the host drivers take every function" { case_control mkinitcpio-systemd $MAIN_SUITE; }
@test "systemd, 6.1: pinned card: its group on vfio-pci, the twin on bochs-drm" { case_pinned mkinitcpio-systemd $MAIN_SUITE; }
@test "systemd, 6.1: host drivers in MODULES=(): the card on vfio-pci, never unbound" { case_modules mkinitcpio-systemd $MAIN_SUITE; }
@test "systemd, 6.1: gpupass=off: nothing bound, says disabled" { case_off mkinitcpio-systemd $MAIN_SUITE; }
@test "systemd, 6.12: no config: the host drivers take every function" { case_control mkinitcpio-systemd $FULL_SUITE; }
@test "systemd, 6.12: pinned card: its group on vfio-pci, the twin on bochs-drm" { case_pinned mkinitcpio-systemd $FULL_SUITE; }
@test "systemd, 6.12: host drivers in MODULES=(): the card on vfio-pci, never unbound" { case_modules mkinitcpio-systemd $FULL_SUITE; }
@test "systemd, 6.12: gpupass=off: nothing bound, says disabled" { case_off mkinitcpio-systemd $FULL_SUITE; }
