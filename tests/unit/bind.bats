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
	assert_output "vfio-pci"
	run cat "$KMSG"
	assert_line "<14>gpupass: loaded vfio-pci with $MODPROBE"
}

@test "with vfio-pci loaded, no modprobe: each function is written to drivers_probe" {
	mkdir -p "$SYS/bus/pci/drivers/vfio-pci"
	fx_dev 0000:03:00.0 1234:1111 030000 20 -
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	[ "$(cat "$SYS/bus/pci/drivers_probe")" = 0000:03:00.0 ]
	run cat "$KMSG"
	# The fixture has no kernel behind drivers_probe: the read-back must say so.
	assert_line "<11>gpupass: group 20: 0000:03:00.0: not on vfio-pci (no driver)"
	assert_line "<11>gpupass: group 20: 0/1 functions on vfio-pci"
}

@test "a function vfio-pci took on load is not probed again" {
	run gp bind
	assert_success
	[ ! -s "$SYS/bus/pci/drivers_probe" ]
	run cat "$KMSG"
	assert_line "<14>gpupass: group 14: 0000:01:00.3: on vfio-pci"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	run grep -x "group 14 bound 4 4" "$RUN/status"
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
	run "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$RUN" --modprobe "$BATS_TEST_TMPDIR/no-such-modprobe"
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: vfio-pci is not loaded and no modprobe was found: nothing can be bound"
	assert_line "<11>gpupass: group 14: left to the host drivers: vfio-pci is not available"
	assert_line "<11>gpupass: group 14: 0/4 functions on vfio-pci"
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
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
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
	run "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" \
		--kmsg "$BATS_TEST_TMPDIR/no-kmsg" --run "$RUN" --modprobe "$MODPROBE"
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
	run "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$BATS_TEST_TMPDIR/runfile/gpupass" --modprobe "$MODPROBE"
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
	mkdir -p "$SYS/bus/pci/drivers/vfio-pci"
	fx_dev 0000:03:00.0 1234:1111 030000 20 -
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	run grep -x "group 20 partial 0 1" "$RUN/status"
	assert_success
	run gp status
	assert_failure 3
	assert_line --partial "group 20: partial at boot; now 0/1 functions on vfio-pci"
}
