#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# release and claim: a whole group from vfio-pci to the host drivers and back at runtime.
load '../lib/fixture'

setup() {
	fx_init
	fx_card 01 14
	fx_fake_kernel
	fx_host_driver 0000:01:00.0 nouveau
	fx_host_driver 0000:01:00.1 snd_hda_intel
	fx_host_driver 0000:01:00.2 xhci_hcd
	fx_host_driver 0000:01:00.3 nvidia-gpu
	PROC=$BATS_TEST_TMPDIR/proc
	mkdir -p "$PROC/1/fd"
	echo "01:00.0" >"$CONF"
}

sw() { gp "$@" --proc "$PROC"; }

# The card bound at boot; the logs start empty after it.
booted() {
	run gp bind
	assert_success
	: >"$KMSG"
	rm -f "$BATS_TEST_TMPDIR/modprobe.log" "$BATS_TEST_TMPDIR/unbound.log"
}

# A boot that bound nothing (the card stays on its host drivers), with its record.
booted_empty() {
	: >"$CONF"
	run gp bind
	assert_success
	: >"$KMSG"
}

# The fake kernel acts only when modprobe runs: unloading vfio-pci makes claim load it.
unload_vfio() { rm -rf "$SYS/bus/pci/drivers/vfio-pci"; }

card_on() {
	local f
	for f in 0 1 2 3; do
		[ "$(fx_driver_of 0000:01:00.$f)" = "$1" ] || fail "0000:01:00.$f on '$(fx_driver_of 0000:01:00.$f)', not $1"
	done
}

card_on_host() {
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ "$(fx_driver_of 0000:01:00.1)" = snd_hda_intel ]
	[ "$(fx_driver_of 0000:01:00.2)" = xhci_hcd ]
	[ "$(fx_driver_of 0000:01:00.3)" = nvidia-gpu ]
}

overrides_are() {
	local f
	for f in 0 1 2 3; do
		[ "$(fx_override_of 0000:01:00.$f)" = "$1" ] || fail "0000:01:00.$f override '$(fx_override_of 0000:01:00.$f)', not '$1'"
	done
}

@test "release: overrides cleared, vfio-pci unbound, each host driver loaded by modalias; kmsg, stdout and the record say so" {
	booted
	run sw release 01:00.0
	assert_success
	card_on_host
	overrides_are ""
	run cat "$BATS_TEST_TMPDIR/unbound.log"
	assert_output "0000:01:00.0 vfio-pci
0000:01:00.1 vfio-pci
0000:01:00.2 vfio-pci
0000:01:00.3 vfio-pci"
	run cat "$BATS_TEST_TMPDIR/modprobe.log"
	assert_line --index 0 "-b pci:v000010DEd00001E84sv00001462sd00008C96bc03sc00i00"
	assert_line --index 1 "-b pci:v000010DEd000010F8sv00001462sd00008C96bc04sc03i00"
	run cat "$KMSG"
	assert_line "<14>gpupass: group 14: 0000:01:00.0: driver_override cleared"
	assert_line "<14>gpupass: group 14: 0000:01:00.2: unbound from vfio-pci"
	assert_line "<13>gpupass: group 14: 0000:01:00.0: released to nouveau"
	assert_line "<13>gpupass: group 14: 0000:01:00.1: released to snd_hda_intel"
	assert_line "<13>gpupass: group 14: released: 4/4 functions on host drivers"
	assert_line "<13>gpupass: done: 1 group released, 0 failed"
	run grep -x "group 14 released 0 4" "$RUN/status"
	assert_success
	run grep -c "^function 14 " "$RUN/status"
	assert_output 4
}

@test "release prints to the terminal what it logs to kmsg" {
	booted
	run sw release 01:00.0
	assert_success
	assert_line "group 14: 0000:01:00.3: released to nvidia-gpu"
	assert_line "done: 1 group released, 0 failed"
}

@test "status after release: the group is released, not a failure, exit 0" {
	booted
	run sw release 01:00.0
	run gp status
	assert_success
	assert_line "group 14: released since boot; now 0/4 functions on vfio-pci: the host has it"
	assert_line "  0000:01:00.0 [10de:1e84] nouveau"
	run gp status --json
	assert_success
	assert_output --partial '{"group":14,"state":"released","on_vfio":0,"functions":4,"viable":null'
}

@test "release twice: the second writes nothing and runs no modprobe" {
	booted
	run sw release 01:00.0
	assert_success
	rm -f "$BATS_TEST_TMPDIR/modprobe.log"
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	: >"$SYS/bus/pci/drivers_probe"
	: >"$KMSG"
	run sw release 01:00.0
	assert_success
	assert_line "group 14: 0000:01:00.0: already on nouveau"
	refute_output --partial "cleared"
	refute_output --partial "unbound"
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	[ ! -s "$SYS/bus/pci/drivers_probe" ]
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	card_on_host
}

@test "release refused while a process holds /dev/vfio/14 open: names it, changes nothing, exit 7" {
	booted
	mkdir -p "$PROC/4242/fd"
	echo qemu-system-x86 >"$PROC/4242/comm"
	ln -s /dev/null "$PROC/4242/fd/0"
	ln -s "$BATS_TEST_TMPDIR/dev/vfio/14" "$PROC/4242/fd/23"
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	run sw release 01:00.0
	assert_failure 7
	assert_line "error: group 14: in use: process 4242 (qemu-system-x86) holds $BATS_TEST_TMPDIR/dev/vfio/14 open; shut the VM down, then release"
	assert_line "error: releasing nothing"
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: in use: process 4242 (qemu-system-x86) holds $BATS_TEST_TMPDIR/dev/vfio/14 open; shut the VM down, then release"
	card_on vfio-pci
	overrides_are vfio-pci
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
}

@test "release refused while a process holds a function's iommufd cdev open" {
	booted
	mkdir -p "$SYS/devices/pci0000:00/0000:01:00.1/vfio-dev/vfio3" "$PROC/77/fd"
	echo qemu-kvm >"$PROC/77/comm"
	ln -s "$BATS_TEST_TMPDIR/dev/vfio/devices/vfio3" "$PROC/77/fd/40"
	run sw release 01:00.0
	assert_failure 7
	assert_line --partial "group 14: in use: process 77 (qemu-kvm)"
	card_on vfio-pci
}

@test "release: a process whose open files cannot be read fails closed" {
	booted
	# Not root, /proc/PID/fd of another user's process fails with EACCES; any error will do.
	mkdir -p "$PROC/99"
	: >"$PROC/99/fd"
	run sw release 01:00.0
	assert_failure 3
	assert_line "error: group 14: cannot tell whether a VM holds it: cannot read the open files under $PROC: Not a directory (run as root)"
	assert_line "error: releasing nothing"
	card_on vfio-pci
}

@test "release refuses a group with a critical member no target names, and touches nothing" {
	fx_chipset 9
	for f in 2 4; do fx_attr 0000:00:1f.$f driver_override vfio-pci; done
	run sw release 00:1f.4
	assert_failure 3
	assert_line "error: group 9: not released: it holds 0000:00:1f.2 [8086:a352] SATA controller (mass storage controller), which no target names (name it, or add allow-critical to the target)"
	assert_line "error: 1 target refused: releasing nothing"
	[ "$(fx_override_of 0000:00:1f.4)" = vfio-pci ]
	[ "$(fx_driver_of 0000:00:1f.2)" = ahci ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
}

@test "release of a bridge is refused; a bridge in the group is never touched" {
	fx_dev 0000:00:01.0 8086:1901 060400 14 pcieport 1
	booted
	run sw release 00:01.0
	assert_failure 3
	assert_line "error: command line:1: 0000:00:01.0 [8086:1901] PCI bridge is a bridge: bridges stay on their driver; name the device behind it"
	card_on vfio-pci
	run sw release 01:00.0
	assert_success
	card_on_host
	[ "$(fx_driver_of 0000:00:01.0)" = pcieport ]
	[ "$(fx_override_of 0000:00:01.0)" = "(null)" ]
	run grep -cF 0000:00:01.0 "$BATS_TEST_TMPDIR/unbound.log"
	assert_output 0
}

@test "release: an unbind that fails puts the group back on vfio-pci" {
	booted
	rm "$SYS/drv/0000:01:00.2/vfio-pci/unbind"
	mkdir "$SYS/drv/0000:01:00.2/vfio-pci/unbind"
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	run sw release 01:00.0
	assert_failure 3
	assert_line "error: group 14: 0000:01:00.2: cannot unbind from vfio-pci: Is a directory"
	assert_line "error: group 14: not released: put back on vfio-pci (a split group is unusable)"
	assert_line "error: done: 0 groups released, 1 failed"
	overrides_are vfio-pci
	# The two it had unbound go back through drivers_probe, to vfio-pci by their override.
	[ "$(fx_unbound 0000:01:00.1 vfio-pci)" = 0000:01:00.1 ]
	[ "$(cat "$SYS/bus/pci/drivers_probe")" = 0000:01:00.1 ]
	[ "$(fx_driver_of 0000:01:00.1)" = vfio-pci ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
}

@test "release --dry-run shows the plan and writes nothing" {
	booted
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	run sw release --dry-run 01:00.0
	assert_success
	assert_line "dry-run: group 14: would release 4 functions"
	assert_line "dry-run: group 14: 0000:01:00.1 [10de:10f8] Audio device: vfio-pci -> host driver"
	card_on vfio-pci
	overrides_are vfio-pci
	[ ! -s "$SYS/drv/0000:01:00.0/vfio-pci/unbind" ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
}

@test "release --all: every group the boot record has on vfio-pci" {
	booted
	run sw release --all
	assert_success
	assert_line "group 14: released: 4/4 functions on host drivers"
	card_on_host
	run sw release --all
	assert_success
	assert_line "no group on vfio-pci: nothing to release"
}

@test "release and claim need a target or --all; a bad target changes nothing, exit 1" {
	run sw release
	assert_failure 2
	assert_output "gpupass: name a target (an address, an id, or ADDRESS,ID) or give --all (see gpupass --help)"
	booted
	run sw release 01:00.0 01:00.9
	assert_failure 1
	assert_line "error: command line:2: bad PCI function number (0 to 7): '01:00.9'"
	assert_line "error: 1 bad target: releasing nothing"
	card_on vfio-pci
}

@test "claim: the host drivers unbound, all on vfio-pci, a warning before the display goes; the record says claimed" {
	booted_empty
	run sw claim 01:00.0
	assert_success
	assert_line "warning: group 14: 0000:01:00.0: taking this display from nouveau: its screens go dark and programs using it lose it"
	assert_line "group 14: 4/4 functions on vfio-pci"
	assert_line "done: 1 group on vfio-pci, 0 failed"
	card_on vfio-pci
	overrides_are vfio-pci
	run grep -n -e "taking this display" -e "0000:01:00.0: unbound from nouveau" "$KMSG"
	assert_line --index 0 --regexp "^[0-9]+:<12>gpupass: group 14: 0000:01:00.0: taking this display from nouveau"
	assert_line --index 1 --regexp "^[0-9]+:<14>gpupass: group 14: 0000:01:00.0: unbound from nouveau"
	run cat "$BATS_TEST_TMPDIR/unbound.log"
	assert_line "0000:01:00.0 nouveau"
	assert_line "0000:01:00.2 xhci_hcd"
	run grep -x "group 14 claimed 4 4" "$RUN/status"
	assert_success
	run gp status
	assert_failure 6
	assert_line --partial "group 14: claimed since boot; now 4/4 functions on vfio-pci; viable: unknown (no "
}

@test "claim takes an address pinned to an id, with a comma or a blank" {
	booted_empty
	run sw claim 01:00.0,10de:1e84
	assert_success
	card_on vfio-pci
	run sw claim "01:00.0 10de:1e84"
	assert_success
	assert_line "group 14: 4/4 functions on vfio-pci"
}

@test "claim: a pinned id that does not match binds nothing, exit 3" {
	booted_empty
	run sw claim 01:00.0,10de:2204
	assert_failure 3
	assert_line "error: command line:1: 0000:01:00.0 is [10de:1e84], not [10de:2204]: the card was moved or replaced; binding nothing for this entry (fix the entry, then regenerate the initramfs)"
	assert_line "error: 1 target refused: claiming nothing"
	card_on_host
}

@test "claim twice: the second changes nothing" {
	booted_empty
	run sw claim 01:00.0
	assert_success
	rm -f "$BATS_TEST_TMPDIR/modprobe.log" "$BATS_TEST_TMPDIR/unbound.log"
	run sw claim 01:00.0
	assert_success
	assert_line "group 14: 0000:01:00.0: driver_override already vfio-pci"
	refute_output --partial "unbound from"
	refute_output --partial "taking this display"
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	card_on vfio-pci
}

@test "claim: a target in a group with an unnamed critical member refuses, and then nothing at all is claimed" {
	fx_chipset 9
	booted_empty
	run sw claim 01:00.0 00:1f.4
	assert_failure 3
	assert_line --partial "error: group 9: refused: it holds 0000:00:1f.2 [8086:a352] SATA controller (mass storage controller, on ahci)"
	assert_line "error: 1 target refused: claiming nothing"
	card_on_host
	overrides_are "(null)"
	[ "$(fx_driver_of 0000:00:1f.4)" = i801_smbus ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
}

@test "claim: a config error claims nothing, exit 1" {
	booted_empty
	run sw claim 01:00.0 10de:1e8
	assert_failure 1
	assert_line "error: command line:2: neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function): '10de:1e8'"
	card_on_host
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
}

@test "claim: a function vfio-pci does not take: the group goes back to the host drivers, never split" {
	booted_empty
	echo 0000:01:00.2 >"$BATS_TEST_TMPDIR/vfio.refuse"
	run sw claim 01:00.0
	assert_failure 3
	assert_line "error: group 14: 0000:01:00.2: not on vfio-pci (no driver)"
	assert_line "error: group 14: 0000:01:00.2 stays on no driver: giving the whole group back to the host (a split group is unusable)"
	assert_line "group 14: 0000:01:00.2: already on xhci_hcd"
	assert_line "group 14: released: 4/4 functions on host drivers"
	card_on_host
	overrides_are ""
	run grep -x "group 14 released 0 4" "$RUN/status"
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: 0000:01:00.2 stays on no driver: giving the whole group back to the host (a split group is unusable)"
}

@test "claim --dry-run shows the plan and writes nothing" {
	booted_empty
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	run sw claim --dry-run 01:00.0
	assert_success
	assert_line "dry-run: group 14: would bind 4 functions"
	card_on_host
	overrides_are "(null)"
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
}

@test "claim --all: the configuration's entries, as the boot binds them" {
	booted_empty
	echo "01:00.0 10de:1e84" >"$CONF"
	run sw claim --all
	assert_success
	assert_line --partial "gpupass.conf:1: 0000:01:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 14"
	card_on vfio-pci
}

@test "release, then claim: back on vfio-pci, the record says claimed" {
	booted
	run sw release 01:00.0
	assert_success
	unload_vfio
	run sw claim 01:00.0
	assert_success
	card_on vfio-pci
	run grep -x "group 14 claimed 4 4" "$RUN/status"
	assert_success
}

@test "without a boot record, the switch happens and says status will not show it" {
	run sw claim 01:00.0
	assert_success
	assert_line "no $RUN/status (gpupass did not run at boot): gpupass status will not show this switch"
	card_on vfio-pci
	[ ! -e "$RUN/status" ]
}

@test "a damaged record is left as it is" {
	booted
	echo "garbage" >>"$RUN/status"
	cp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
	run sw release 01:00.0
	assert_success
	assert_line "error: $RUN/status is damaged: not updated (gpupass status shows what is wrong)"
	card_on_host
	cmp "$RUN/status" "$BATS_TEST_TMPDIR/status.before"
}
