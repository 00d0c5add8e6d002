#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Binding: the order of writes, loading vfio-pci, reading back, logging, never failing the boot.
load '../lib/fixture'

setup() {
	fx_init
	fx_card 01 14
	echo "01:00.0" >"$CONF"
}

@test "every function gets driver_override, its host driver is unbound, and the override stays" {
	run gp bind
	assert_success
	for f in 0 1 2 3; do
		[ "$(fx_override_of 0000:01:00.$f)" = vfio-pci ]
		[ "$(fx_driver_of 0000:01:00.$f)" = vfio-pci ]
	done
	[ "$(fx_unbound 0000:01:00.0 nouveau)" = 0000:01:00.0 ]
	[ "$(fx_unbound 0000:01:00.1 snd_hda_intel)" = 0000:01:00.1 ]
	[ "$(fx_unbound 0000:01:00.2 xhci_hcd)" = 0000:01:00.2 ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}

@test "the override is written before the host driver is unbound" {
	run gp bind
	assert_success
	run grep -n -e "0000:01:00.1: driver_override set" -e "0000:01:00.1: unbound from snd_hda_intel" "$KMSG"
	assert_line --index 0 --partial "driver_override set to vfio-pci"
	assert_line --index 1 --partial "unbound from snd_hda_intel"
}

@test "modprobe vfio-pci runs when vfio-pci is not loaded" {
	run gp bind
	assert_success
	run cat "$BATS_TEST_TMPDIR/modprobe.log"
	assert_output "vfio-pci
vfio_iommu_type1"
	run cat "$KMSG"
	assert_line "<14>gpupass: loaded vfio-pci with $MODPROBE"
	assert_line "<14>gpupass: loaded vfio_iommu_type1 with $MODPROBE"
}

@test "vfio-pci loaded before gpupass without its IOMMU backend: modprobe vfio_iommu_type1 alone" {
	mkdir -p "$SYS/bus/pci/drivers/vfio-pci"
	run gp bind
	assert_success
	run cat "$BATS_TEST_TMPDIR/modprobe.log"
	assert_output "vfio_iommu_type1"
	run cat "$KMSG"
	assert_line "<14>gpupass: loaded vfio_iommu_type1 with $MODPROBE"
}

@test "vfio_iommu_type1 that cannot be loaded is a warning: the group is still bound" {
	printf '#!/bin/sh\n[ "$1" = vfio-pci ] || exit 1\nmkdir -p "%s/bus/pci/drivers/vfio-pci"\n' "$SYS" >"$MODPROBE"
	mkdir -p "$SYS/bus/pci/drivers/vfio-pci"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<12>gpupass: vfio_iommu_type1 is not loaded (modprobe failed): a VM cannot use the bound groups until it is, unless the kernel offers iommufd instead"
	assert_line --partial "group 14: 4/4 functions on vfio-pci"
}

@test "with vfio-pci loaded, no modprobe: each function is written to drivers_probe" {
	mkdir -p "$SYS/bus/pci/drivers/vfio-pci" "$SYS/module/vfio_iommu_type1"
	fx_dev 0000:03:00.0 1234:1111 030000 20 -
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	run cat "$BATS_TEST_TMPDIR/kernel.log"
	assert_output "bus/pci/drivers_probe 0000:03:00.0"
	[ "$(fx_driver_of 0000:03:00.0)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 20: 1/1 functions on vfio-pci"
}

@test "a function vfio-pci took on load is not probed again" {
	fx_dev 0000:03:00.0 1234:1111 030000 20 -
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	run cat "$BATS_TEST_TMPDIR/at-load.log"
	assert_output "0000:03:00.0 -"
	[ ! -e "$BATS_TEST_TMPDIR/kernel.log" ]
	run cat "$KMSG"
	assert_line "<14>gpupass: group 20: 0000:03:00.0: on vfio-pci"
	assert_line "<13>gpupass: group 20: 1/1 functions on vfio-pci"
	run grep -x "group 20 bound 1 1" "$RUN/status"
	assert_success
}

@test "running twice is harmless: nothing is written the second time" {
	run gp bind
	assert_success
	: >"$KMSG"
	for f in 0 1 2 3; do echo "not written" >"$SYS/devices/pci0000:00/0000:01:00.$f/driver_override.mark"; done
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<14>gpupass: group 14: 0000:01:00.0: driver_override already vfio-pci"
	refute_output --partial "unbound from"
	refute_output --partial "loaded vfio-pci"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}

@test "no modprobe anywhere: a clear error, the card given back to the host, exit 0" {
	run fx_kernel "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$RUN" --modprobe "$BATS_TEST_TMPDIR/no-such-modprobe" --root "$ROOTFS"
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: vfio-pci is not loaded and no modprobe was found: nothing can be bound"
	assert_line "<11>gpupass: group 14: left to the host drivers: vfio-pci is not available"
	refute_output --partial "unbound from"
	# No function may stay pinned to a driver that is not there: that is a black screen.
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
	[ "$(cat "$SYS/bus/pci/drivers_probe")" = 0000:01:00.3 ]
}

@test "vfio-pci missing from the initramfs: a clear error, exit 0" {
	touch "$BATS_TEST_TMPDIR/modprobe.fail"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: $MODPROBE vfio-pci failed (exit status 1)"
	assert_line "<11>gpupass: vfio-pci is not available: the vfio-pci module is missing from the initramfs; reinstall gpupass and regenerate the initramfs"
	assert_line "<14>gpupass: group 14: 0000:01:00.0: driver_override cleared again"
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
}

@test "a failed bind ends with a line that says it failed" {
	touch "$BATS_TEST_TMPDIR/modprobe.fail"
	run gp bind
	assert_success
	run tail -n 1 "$KMSG"
	assert_output "<11>gpupass: failed: 0 groups on vfio-pci, 1 not (see above), 0 targets skipped"
	run grep -c "done:" "$KMSG"
	assert_output 0
}

@test "an override that cannot be written leaves the whole group to the host" {
	rm "$SYS/devices/pci0000:00/0000:01:00.2/driver_override"
	run gp bind
	assert_success
	for f in 0 1; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
	[ "$(fx_override_of 0000:01:00.3)" = "(null)" ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ -z "$(fx_unbound 0000:01:00.0 nouveau)" ]
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: group 14: 0000:01:00.2: cannot write $SYS/bus/pci/devices/0000:01:00.2/driver_override: No such file or directory"
	assert_line "<11>gpupass: group 14: left to the host: a half-bound group is unusable"
}

@test "a function that disappears between listing and binding is reported, others go on" {
	fx_card 02 15
	echo "10de:1e84" >"$CONF"
	# The modprobe stand-in runs after the overrides: the card in slot 02 is pulled then.
	cat >>"$MODPROBE" <<SH
rm -f "$SYS/devices/pci0000:00/0000:02:00.1/driver"; rm -rf "$SYS/devices/pci0000:00/0000:02:00.1" "$SYS/bus/pci/devices/0000:02:00.1"
SH
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: group 15: 0000:02:00.1: not on vfio-pci (no driver)"
	assert_line "<11>gpupass: group 15: 3/4 functions on vfio-pci"
	assert_line "<11>gpupass: group 15: left to the host drivers"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	# The rest of the card goes back to its host drivers.
	[ "$(fx_driver_of 0000:02:00.0)" = nouveau ]
	[ "$(fx_driver_of 0000:02:00.3)" = nvidia-gpu ]
}

@test "kmsg records carry priorities: errors 11, warnings 12, notices 13, info 14" {
	fx_dev 0000:00:14.0 8086:a36d 0c0330 14 xhci_hcd
	printf '01:00.0\n07:00.0\n' >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line --regexp '^<14>gpupass: group 14: 0000:01:00.0: driver_override set to vfio-pci$'
	assert_line --regexp '^<12>gpupass: .*:2: no PCI device at 0000:07:00.0'
	assert_line --regexp '^<13>gpupass: group 14: 5/5 functions on vfio-pci$'
	echo bogus >"$CONF"; : >"$KMSG"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line --regexp '^<11>gpupass: .*:1: unknown word'
}

@test "every kmsg record is one line below the kernel's record limit" {
	local long
	long=$(printf '01:00.0 #%0200d' 0)
	fx_dev 0000:00:14.0 8086:a36d 0c0330 14 "$(printf 'd%.0s' $(seq 1 60))"
	echo "$long" >"$CONF"
	run gp bind
	assert_success
	run awk '{ if (length($0) + 1 > 976) print "too long: " length($0) }' "$KMSG"
	assert_output ""
	run wc -l <"$KMSG"
	[ "$output" -gt 10 ]
}

@test "without /dev/kmsg the log goes to stderr" {
	run fx_kernel "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" \
		--kmsg "$BATS_TEST_TMPDIR/no-kmsg" --run "$RUN" --modprobe "$MODPROBE" --root "$ROOTFS"
	assert_success
	assert_line "gpupass: group 14: 4/4 functions on vfio-pci"
	assert_line --partial "gpupass: group 14: 0000:01:00.0: driver_override set to vfio-pci"
}

@test "the status record lists what was bound" {
	run gp bind
	assert_success
	run cat "$RUN/status"
	assert_line "version 1"
	assert_line "mode bind"
	assert_line --regexp "^config $CONF [0-9a-f]{16}$"
	assert_line "group 14 bound 4 4"
	assert_line "function 14 0000:01:00.3 10de:1ad9"
}

@test "an unwritable status directory is logged and the boot goes on" {
	: >"$BATS_TEST_TMPDIR/runfile"
	run fx_kernel "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$BATS_TEST_TMPDIR/runfile/gpupass" --modprobe "$MODPROBE" --root "$ROOTFS"
	assert_success
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: cannot create $BATS_TEST_TMPDIR/runfile/gpupass: Not a directory"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}

@test "a missing sysfs is logged, exit 0" {
	run "$GPUPASS" bind --sysfs "$BATS_TEST_TMPDIR/nosys" --config "$CONF" --cmdline "$CMDLINE" \
		--kmsg "$KMSG" --run "$RUN"
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: cannot read $BATS_TEST_TMPDIR/nosys/bus/pci/devices: No such file or directory: binding nothing"
}

@test "when every group is refused, vfio-pci is not loaded" {
	fx_chipset 9
	echo "00:1f.2" >"$CONF"
	run gp bind
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	run cat "$KMSG"
	refute_output --partial "loaded vfio-pci"
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 1 target skipped"
}

@test "a group that ends partly bound is recorded as partial, and status says so" {
	# 01:00.3 is refused by vfio-pci, and 01:00.0 cannot be unbound from it again.
	echo 0000:01:00.3 >"$BATS_TEST_TMPDIR/vfio.refuse"
	mkdir -p "$SYS/drv/0000:01:00.0/vfio-pci/unbind"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: 0000:01:00.0: cannot unbind from vfio-pci"
	assert_line "<11>gpupass: group 14: could not be given back whole: 1/4 functions still on vfio-pci"
	run grep -x "group 14 partial 1 4" "$RUN/status"
	assert_success
	run gp status
	assert_failure 3
	assert_line --partial "group 14: partial at boot; now 1/4 functions on vfio-pci"
}

@test "vfio-pci is loaded before any host driver is unbound" {
	run gp bind
	assert_success
	# At load time every function still had its host driver.
	run cat "$BATS_TEST_TMPDIR/at-load.log"
	assert_line "0000:01:00.0 nouveau"
	assert_line "0000:01:00.1 snd_hda_intel"
	assert_line "0000:01:00.2 xhci_hcd"
	assert_line "0000:01:00.3 nvidia-gpu"
	run grep -n -e "loaded vfio-pci" -e "unbound from" "$KMSG"
	assert_line --index 0 --partial "loaded vfio-pci with"
}

@test "when modprobe vfio-pci fails, no host driver is unbound and the group is the host's" {
	touch "$BATS_TEST_TMPDIR/modprobe.fail"
	run gp bind
	assert_success
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
	[ -z "$(fx_unbound 0000:01:00.0 nouveau)$(fx_unbound 0000:01:00.1 snd_hda_intel)$(fx_unbound 0000:01:00.2 xhci_hcd)$(fx_unbound 0000:01:00.3 nvidia-gpu)" ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ "$(fx_driver_of 0000:01:00.1)" = snd_hda_intel ]
	run cat "$KMSG"
	refute_output --partial "unbound from"
	run grep -x "group 14 refused 0 4" "$RUN/status"
	assert_success
}

@test "a modprobe that hangs is killed after gpupass.timeout= seconds and the host keeps the card" {
	# exec: the killed child is the sleep itself, which holds no pipe of the test open.
	printf '#!/bin/sh\nexec sleep 600\n' >"$MODPROBE"
	echo "root=/dev/sda1 gpupass.timeout=1" >"$CMDLINE"
	SECONDS=0
	run gp bind
	assert_success
	[ "$SECONDS" -lt 15 ]
	run cat "$KMSG"
	assert_line "<11>gpupass: $MODPROBE vfio-pci did not finish in 1 s: killed it (gpupass.timeout= sets the limit)"
	assert_line "<11>gpupass: vfio-pci is not available: loading it hung; look for an install or softdep line for vfio-pci in /etc/modprobe.d, then regenerate the initramfs"
	refute_output --partial "missing from the initramfs"
	assert_line "<11>gpupass: group 14: left to the host drivers: vfio-pci is not available"
	refute_output --partial "unbound from"
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
}

@test "a hung modprobe is killed with what it started (an install line's command)" {
	# What hangs is a child of modprobe, as with "install vfio-pci /bin/sleep 600".
	printf '#!/bin/sh\nsleep 600 >/dev/null 2>&1 &\necho $! >"%s"\nwait\n' "$BATS_TEST_TMPDIR/child.pid" >"$MODPROBE"
	echo "root=/dev/sda1 gpupass.timeout=1" >"$CMDLINE"
	run gp bind
	assert_success
	child=$(cat "$BATS_TEST_TMPDIR/child.pid")
	[ -n "$child" ]
	# Killed, it may linger a moment as a zombie until its new parent reaps it.
	sleep 0.2
	state=$(ps -o stat= -p "$child" || :)
	if [ -n "$state" ] && [ "${state#Z}" = "$state" ]; then
		kill "$child"
		fail "modprobe's child $child outlived the time limit ($state)"
	fi
}

@test "a function not on vfio-pci after probing is probed once more" {
	echo 0000:01:00.1 >"$BATS_TEST_TMPDIR/probe.refuse-once"
	run gp bind
	assert_success
	run grep -c "drivers_probe 0000:01:00.1" "$BATS_TEST_TMPDIR/kernel.log"
	assert_output 2
	run cat "$KMSG"
	assert_line "<12>gpupass: group 14: 0000:01:00.1: not on vfio-pci (no driver) after probing: trying once more"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	run grep -x "group 14 bound 4 4" "$RUN/status"
	assert_success
}

@test "a group still split after the retry goes back to the host whole, naming who holds it" {
	# snd_hda_intel will not let go of 01:00.1.
	rm "$SYS/drv/0000:01:00.1/snd_hda_intel/unbind"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: 3/4 functions on vfio-pci"
	assert_line "<11>gpupass: group 14: 0000:01:00.1 stays on snd_hda_intel: giving the whole group back to the host (a split group is unusable)"
	assert_line "<11>gpupass: group 14: left to the host drivers"
	assert_line "<11>gpupass: failed: 0 groups on vfio-pci, 1 not (see above), 0 targets skipped"
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "" ]; done
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ "$(fx_driver_of 0000:01:00.1)" = snd_hda_intel ]
	[ "$(fx_driver_of 0000:01:00.2)" = xhci_hcd ]
	[ "$(fx_driver_of 0000:01:00.3)" = nvidia-gpu ]
	run grep -x "group 14 refused 0 4" "$RUN/status"
	assert_success
	run gp status
	assert_failure 3
	assert_line --partial "group 14: refused at boot"
}

@test "bind --dry-run on the host leaves the boot's record alone" {
	run gp bind
	assert_success
	cp "$RUN/status" "$BATS_TEST_TMPDIR/boot-record"
	rm "$ROOTFS/etc/initrd-release"
	: >"$KMSG"
	run gp bind --dry-run
	assert_success
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/boot-record"
	run cat "$KMSG"
	assert_line "<14>gpupass: not run from the initramfs: $RUN/status, the boot's record, left as it is"
}

# recorded_with_marker PATH: with PATH the root's only initramfs marker, bind takes its run for
# the initramfs's: gpupass=dry-run there writes the boot's record.
recorded_with_marker() {
	rm "$ROOTFS/etc/initrd-release"
	mkdir -p "$(dirname "$ROOTFS$1")"
	: >"$ROOTFS$1"
	echo "root=/dev/sda1 gpupass=dry-run" >"$CMDLINE"
	run gp bind
	assert_success
	run cat "$RUN/status"
	assert_line "mode dry-run"
	assert_line "group 14 planned 0 4"
}

@test "initramfs-tools' image is the initramfs too: gpupass=dry-run there is recorded" {
	recorded_with_marker /conf/initramfs.conf
}

@test "dracut 106's shell /init image (/usr/lib/initrd-release alone) is the initramfs too: recorded" {
	recorded_with_marker /usr/lib/initrd-release
}

udevd_runs() {
	mkdir -p "$ROOTFS/run/udev" "$BATS_TEST_TMPDIR/proc/1" "$BATS_TEST_TMPDIR/proc/$1"
	: >"$ROOTFS/run/udev/control"
	echo sh >"$BATS_TEST_TMPDIR/proc/1/comm"
	echo "$2" >"$BATS_TEST_TMPDIR/proc/$1/comm"
}

@test "udev already running in the initramfs: dmesg says the order is broken" {
	udevd_runs 212 systemd-udevd
	run gp bind --proc "$BATS_TEST_TMPDIR/proc"
	assert_success
	run cat "$KMSG"
	assert_line --index 0 "<11>gpupass: udev is already running (udevd is process 212): it started before gpupass, so host drivers may own the devices already; gpupass must run before udev starts: check the hook order in the initramfs and regenerate it"
}

@test "udev's control socket alone (systemd's socket unit) and udev on the host are no error" {
	udevd_runs 212 bash
	run gp bind --proc "$BATS_TEST_TMPDIR/proc"
	assert_success
	run grep -c "udev is already running" "$KMSG"
	assert_output 0
	udevd_runs 213 udevd
	rm "$ROOTFS/etc/initrd-release"
	run gp bind --dry-run --proc "$BATS_TEST_TMPDIR/proc"
	assert_success
	run grep -c "udev is already running" "$KMSG"
	assert_output 0
}
