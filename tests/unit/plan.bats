#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Planning and the safety policy: which groups are bound, refused or skipped, and why.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
}

@test "identical GPUs are told apart by address" {
	fx_card 01 14
	fx_card 02 15
	echo "0000:02:00.0" >"$CONF"
	run gp bind
	assert_success
	for f in 0 1 2 3; do
		[ "$(fx_driver_of 0000:02:00.$f)" = vfio-pci ]
		[ "$(fx_override_of 0000:02:00.$f)" = vfio-pci ]
		[ "$(fx_override_of 0000:01:00.$f)" = "(null)" ]
	done
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ "$(fx_driver_of 0000:01:00.1)" = snd_hda_intel ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 15: 4/4 functions on vfio-pci"
	refute_output --partial "group 14"
}

@test "an id entry takes every card with that id" {
	fx_card 01 14
	fx_card 02 15
	echo "10de:1e84" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	assert_line "<13>gpupass: group 15: 4/4 functions on vfio-pci"
	assert_line "<13>gpupass: done: 2 groups on vfio-pci, 0 targets skipped"
}

@test "a pinned entry whose id no longer matches binds nothing and says so" {
	fx_card 01 14 10de:2204
	echo "01:00.0 10de:1e84   # the RTX 2080 I used to have" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: 0000:01:00.0 is [10de:2204], not [10de:1e84]: the card was moved or replaced; binding nothing for this entry (fix the entry, then regenerate the initramfs)"
}

@test "a failed pinned entry also blocks another entry that reaches its group" {
	fx_card 01 14 10de:2204
	printf '01:00.0 10de:1e84\n10de:10f8\n' >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.1)" = "(null)" ]
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: group 14: refused: 0000:01:00.0 [10de:2204] VGA compatible controller failed its entry's check"
}

@test "a pinned entry that matches binds" {
	fx_card 01 14
	echo "01:00.0 10de:1e84" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}

@test "a bridge in the group stays on its driver and is never written to" {
	fx_dev 0000:00:01.0 8086:1901 060400 14 pcieport 1
	fx_card 01 14
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:00:01.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:00:01.0)" = pcieport ]
	[ -z "$(fx_unbound 0000:00:01.0 pcieport)" ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	run gp check
	assert_success
	assert_output --partial "group 14: 0000:00:01.0 [8086:1901] PCI bridge: bridge, stays on pcieport"
}

@test "a header type 0 device of base class 06 (host bridge) is treated as a bridge" {
	fx_dev 0000:00:00.1 1022:1480 060000 14 - 0
	fx_card 01 14
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:00:00.1)" = "(null)" ]
	[ "$(fx_override_of 0000:01:00.0)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	refute_output --partial "0000:00:00.1: driver_override"
	run grep -c "^function 14 " "$RUN/status"
	assert_output 4
	run gp check
	assert_success
	assert_line "group 14: 0000:00:00.1 [1022:1480] Host bridge: bridge, stays on no driver"
}

@test "function 0 of a multi-function card (header type 0x80) is bound, not taken for a bridge" {
	fx_card 01 14
	echo "01:00.0" >"$CONF"
	[ "$(od -An -tx1 -j14 -N1 "$SYS/devices/pci0000:00/0000:01:00.0/config")" = " 80" ]
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	refute_output --partial "is a bridge"
}

@test "a pinned entry whose vendor differs (same device id) binds nothing" {
	fx_card 01 14
	echo "01:00.0 1002:1e84" >"$CONF"
	run gp bind
	assert_success
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "(null)" ]; done
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: $CONF:1: 0000:01:00.0 is [10de:1e84], not [1002:1e84]: the card was moved or replaced; binding nothing for this entry"
	run gp check
	assert_failure 3
}

@test "a pinned entry whose device differs (same vendor) binds nothing" {
	fx_card 01 14
	echo "01:00.0 10de:2204" >"$CONF"
	run gp bind
	assert_success
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "(null)" ]; done
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: $CONF:1: 0000:01:00.0 is [10de:1e84], not [10de:2204]: the card was moved or replaced"
}

@test "an id entry matches vendor:device, never the subsystem ids" {
	fx_card 01 14
	# fx_dev gives every function subsystem 1462:8c96.
	echo "1462:8c96" >"$CONF"
	run gp check
	assert_failure 3
	assert_line --partial "no device [1462:8c96] present: nothing to bind for this entry"
}

@test "an entry naming a bridge is refused with advice" {
	fx_dev 0000:00:01.0 8086:1901 060400 14 pcieport 1
	echo "00:01.0" >"$CONF"
	run gp check
	assert_failure 3
	assert_output --partial "error: $CONF:1: 0000:00:01.0 [8086:1901] PCI bridge is a bridge: bridges stay on their driver; name the device behind it"
}

@test "a target in the chipset group is refused, naming the device the host needs" {
	fx_dev 0000:00:1f.3 8086:a348 040300 9 snd_hda_intel
	echo "00:1f.3" >"$CONF"
	run gp bind
	assert_success
	for f in 2 3 4; do [ "$(fx_override_of 0000:00:1f.$f)" = "(null)" ]; done
	[ "$(fx_driver_of 0000:00:1f.2)" = ahci ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 9: refused: it holds 0000:00:1f.2 [8086:a352] SATA controller (mass storage controller, on ahci), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line 0000:00:1f.2, or allow-critical to the entry)"
	assert_line "<11>gpupass: group 9: refused: it holds 0000:00:1f.4 [8086:a323] SMBus (SMBus controller, on i801_smbus), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line 0000:00:1f.4, or allow-critical to the entry)"
	# A bridge cannot be named: allow-critical is the only way past it.
	assert_line "<11>gpupass: group 9: refused: it holds 0000:00:1f.0 [8086:a305] ISA bridge (ISA/LPC bridge, on no driver), which the host needs; binding nothing in this group (add allow-critical to the entry to override)"
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 1 target skipped"
}

@test "allow-critical binds a refused group, leaving its bridges alone" {
	fx_dev 0000:00:1f.3 8086:a348 040300 9 snd_hda_intel
	echo "00:1f.3 allow-critical" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:00:1f.2)" = vfio-pci ]
	[ "$(fx_override_of 0000:00:1f.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<12>gpupass: group 9: 0000:00:1f.2 [8086:a352] SATA controller (mass storage controller, on ahci) goes to vfio-pci too, by allow-critical"
	assert_line "<12>gpupass: group 9: 0000:00:1f.4 [8086:a323] SMBus (SMBus controller, on i801_smbus) goes to vfio-pci too, by allow-critical"
	# The ISA bridge stays on its driver: nothing says it goes.
	refute_output --partial "0000:00:1f.0 [8086:a305] ISA bridge (ISA/LPC bridge, on no driver) goes"
	assert_line "<13>gpupass: group 9: 3/3 functions on vfio-pci"
}

@test "a storage controller the entry names itself is bound without allow-critical" {
	fx_dev 0000:03:00.0 144d:a808 010802 20 nvme
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<13>gpupass: group 20: 1/1 functions on vfio-pci"
}

@test "a host device from another slot in the group is bound with a warning naming it" {
	fx_card 01 14
	fx_dev 0000:00:14.0 8086:a36d 0c0330 14 xhci_hcd
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:00:14.0)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<12>gpupass: group 14: 0000:00:14.0 [8086:a36d] USB controller (on xhci_hcd) is not part of the card but shares its IOMMU group: it goes to vfio-pci too"
	refute_output --partial "0000:01:00.2 [10de:1ad8] USB controller (on xhci_hcd) is not part of the card"
	assert_line "<13>gpupass: group 14: 5/5 functions on vfio-pci"
}

@test "the boot VGA device is bound with a warning" {
	fx_card 01 14
	fx_attr 0000:01:00.0 boot_vga 1
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<12>gpupass: group 14: 0000:01:00.0 [10de:1e84] VGA compatible controller is the boot VGA device: its console goes dark when vfio-pci takes it"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}

@test "a target with SR-IOV VFs enabled is reported and its group left alone" {
	fx_dev 0000:05:00.0 1002:7362 038000 30 amdgpu
	fx_attr 0000:05:00.0 sriov_numvfs 4
	echo "05:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:05:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 30: refused: 0000:05:00.0 [1002:7362] Display controller has 4 SR-IOV virtual functions enabled, and vfio-pci refuses it; binding nothing in this group (write 0 to its sriov_numvfs first)"
}

@test "no iommu_group link means the IOMMU is off: on Intel, says to add intel_iommu=on, binds nothing" {
	fx_dev 0000:01:00.0 10de:1e84 030000 - nouveau
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: 0000:01:00.0 [10de:1e84] VGA compatible controller has no IOMMU group: the IOMMU is off; add intel_iommu=on to the kernel command line (and enable VT-d in the firmware setup); binding nothing"
}

# amd_iommu= has no "on" (parse_amd_iommu_options()): AMD-Vi is on whenever the firmware enables it.
@test "on an AMD host the IOMMU advice is the firmware setting, never amd_iommu=on" {
	rm -rf "$SYS"; fx_init
	fx_dev 0000:00:00.0 1022:1480 060000 - - 0
	fx_dev 0000:01:00.0 10de:1e84 030000 - nouveau
	echo "01:00.0" >"$CONF"
	run gp check
	assert_failure 3
	amd="enable the IOMMU (AMD-Vi) in the firmware setup, and remove amd_iommu=off or iommu=off from the kernel command line if present"
	assert_line "error: no IOMMU groups: the IOMMU is off; $amd"
	assert_line "error: $CONF:1: 0000:01:00.0 [10de:1e84] VGA compatible controller has no IOMMU group: the IOMMU is off; $amd; binding nothing"
	refute_output --partial "amd_iommu=on"
}

@test "with no host bridge to tell the platform, the IOMMU advice covers both" {
	rm -rf "$SYS"; fx_init
	fx_dev 0000:01:00.0 10de:1e84 030000 - nouveau
	echo "01:00.0" >"$CONF"
	run gp check
	assert_failure 3
	assert_line "error: no IOMMU groups: the IOMMU is off; Intel: add intel_iommu=on to the kernel command line (and enable VT-d in the firmware setup); AMD: enable the IOMMU (AMD-Vi) in the firmware setup, and remove amd_iommu=off or iommu=off from the kernel command line if present"
	refute_output --partial "amd_iommu=on"
}

@test "several entries in one group bind it once" {
	fx_card 01 14
	printf '01:00.0\n01:00.1\n10de:1ad8\n' >"$CONF"
	run gp bind
	assert_success
	run grep -c "driver_override set" "$KMSG"
	assert_output 4
	run grep -c "group 14: 4/4 functions on vfio-pci" "$KMSG"
	assert_output 1
}

@test "a member that is not a PCI function refuses the group" {
	fx_card 01 14
	mkdir -p "$SYS/devices/platform/ACPI0001"
	ln -s ../../../../devices/platform/ACPI0001 "$SYS/kernel/iommu_groups/14/devices/ACPI0001:00"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: member ACPI0001:00 is not a PCI function; binding nothing in this group"
}

@test "an address with no device is a warning and nothing else" {
	fx_card 01 14
	echo "07:00.0" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<12>gpupass: $CONF:1: no PCI device at 0000:07:00.0: nothing to bind for this entry"
}

@test "an id with no device present: an error for check, whose exit it makes 3; a warning at boot" {
	fx_card 01 14
	echo "1002:73bf" >"$CONF"
	run --separate-stderr gp check
	assert_failure 3
	assert_equal "$stderr" "$(printf '%s\n' \
		"error: $CONF:1: no device [1002:73bf] present: nothing to bind for this entry" \
		"error: 1 target would not be bound; 0 groups would be")"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<12>gpupass: $CONF:1: no device [1002:73bf] present: nothing to bind for this entry"
}

@test "a dangling iommu_group link refuses the group" {
	fx_card 01 14
	rm -rf "$SYS/kernel/iommu_groups/14"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: cannot list its members (No such file or directory); binding nothing in this group"
}

@test "a looping iommu_group link is not followed" {
	fx_card 01 14
	fx_link iommu_group "$SYS/devices/pci0000:00/0000:01:00.0/iommu_group"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read iommu_group of 0000:01:00.0: binding nothing for this entry"
}

@test "an empty vendor attribute makes the device unreadable, not a match" {
	fx_card 01 14
	: >"$SYS/devices/pci0000:00/0000:01:00.1/vendor"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: cannot read vendor of member 0000:01:00.1; binding nothing in this group"
}

@test "a class attribute that is not a number refuses the group" {
	fx_card 01 14
	echo "VGA" >"$SYS/devices/pci0000:00/0000:01:00.0/class"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read class of 0000:01:00.0: binding nothing for this entry"
}

# What planning reads is what it costs at boot: an address entry reads its own function and
# its group's members, never the rest of the machine (strace -y names the directory of every
# openat; the fd of bus/pci/devices is the one path all functions are opened through).
# LeakSanitizer cannot run under ptrace: the ASan build checks leaks everywhere else.
traced_check() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -e trace=openat,readlinkat -o "$BATS_TEST_TMPDIR/trace" \
		"$GPUPASS" check --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --run "$RUN"
}

@test "an address entry reads its group's functions and no other" {
	fx_card 01 14
	fx_card 02 15
	echo "0000:02:00.0" >"$CONF"
	run traced_check
	assert_success
	run grep -c '0000:02:00\.[0-3]' "$BATS_TEST_TMPDIR/trace"
	[ "$output" -ge 8 ]
	run grep -E '0000:01:00|0000:00:1f' "$BATS_TEST_TMPDIR/trace"
	assert_failure
}

@test "an id entry reads every function's ids and only the matches in full" {
	fx_card 01 14
	fx_card 02 15 10de:2204
	echo "10de:1e84" >"$CONF"
	run traced_check
	assert_success
	# The other card's GPU: vendor and device, to see that it does not match; nothing more.
	run grep -E '0000:02:00\.0>, "(vendor|device)"' "$BATS_TEST_TMPDIR/trace"
	assert_success
	run grep -E '0000:02:00\.0>, "(class|config|iommu_group|driver)"' "$BATS_TEST_TMPDIR/trace"
	assert_failure
	run grep -E '0000:01:00\.0>, "(class|config|iommu_group|driver)"' "$BATS_TEST_TMPDIR/trace"
	assert_success
}

@test "a single SR-IOV virtual function is enough to refuse the group" {
	fx_dev 0000:05:00.0 1002:7362 038000 30 amdgpu
	fx_attr 0000:05:00.0 sriov_numvfs 1
	echo "05:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:05:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: group 30: refused: 0000:05:00.0 [1002:7362] Display controller has 1 SR-IOV virtual functions enabled"
}

@test "a pinned entry that fails its check refuses its group, even when another entry names the group" {
	fx_card 01 14
	printf '01:00.0 1002:1e84\n01:00.1\n' >"$CONF"
	run gp bind
	assert_success
	for f in 0 1 2 3; do [ "$(fx_override_of 0000:01:00.$f)" = "(null)" ]; done
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: 0000:01:00.0 [10de:1e84] VGA compatible controller failed its entry's check; binding nothing in this group"
}

@test "a group whose devices directory is empty is refused" {
	fx_card 01 14
	rm -f "$SYS/kernel/iommu_groups/14/devices/"*
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: cannot list its members (empty); binding nothing in this group"
}
