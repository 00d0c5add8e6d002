#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The safety policy on trees shaped like real desktops and servers from
# passthrough guides: which functions the host keeps (its disks, its network,
# its screen, its chipset), what an id entry names, and the line each refusal
# tells the user to write instead.
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
}

# Nothing was written to any function's driver_override or unbind file.
nothing_written() {
	local f
	for f in "$SYS"/devices/pci0000:00/*/driver_override; do
		[ "$(head -n 1 "$f")" = "(null)" ] || fail "written: $f"
	done
	for f in "$SYS"/drv/*/*/unbind; do
		[ ! -s "$f" ] || fail "unbound: $f"
	done
}

# fx_nvme ADDR GROUP: one Samsung 970 EVO Plus, on nvme.
fx_nvme() { fx_dev "$1" 144d:a808 010802 "$2" nvme; }

@test "two identical NVMe drives: an id entry names neither, refuses both groups with the line to write" {
	fx_nvme 0000:03:00.0 20   # the root filesystem
	fx_nvme 0000:04:00.0 21   # the one meant for the guest
	echo "144d:a808" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	[ "$(fx_driver_of 0000:03:00.0)" = nvme ]
	[ "$(fx_driver_of 0000:04:00.0)" = nvme ]
	run cat "$KMSG"
	for a in 03 04; do
		assert_line "<11>gpupass: group $((a == 03 ? 20 : 21)): refused: 0000:$a:00.0 [144d:a808] Non-Volatile memory controller (on nvme) is one of several devices matching 144d:a808 ($CONF:1), which names none of them since the host's own may be one; binding nothing in this group (write the address of the one you mean instead, e.g. the line 0000:$a:00.0; gpupass list shows them)"
	done
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 2 targets skipped"
	run gp check
	assert_failure 3
	assert_line "error: 2 targets would not be bound; 0 groups would be"
}

@test "two identical NVMe drives: an address entry binds exactly that one" {
	fx_nvme 0000:03:00.0 20
	fx_nvme 0000:04:00.0 21
	echo "04:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:04:00.0)" = vfio-pci ]
	[ "$(fx_driver_of 0000:03:00.0)" = nvme ]
	[ "$(fx_override_of 0000:03:00.0)" = "(null)" ]
	[ -z "$(fx_unbound 0000:03:00.0 nvme)" ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 21: 1/1 functions on vfio-pci"
	refute_output --partial "group 20"
}

@test "one NVMe drive of its model: an id entry names it" {
	fx_nvme 0000:04:00.0 21
	fx_dev 0000:03:00.0 8086:f1a8 010802 20 nvme   # the root disk, another model
	echo "144d:a808" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:04:00.0)" = vfio-pci ]
	[ "$(fx_driver_of 0000:03:00.0)" = nvme ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 21: 1/1 functions on vfio-pci"
}

@test "two identical NICs: an id entry names neither; one dual-port NIC is one device and is named" {
	fx_dev 0000:05:00.0 8086:1533 020000 30 igb
	fx_dev 0000:06:00.0 8086:1533 020000 31 igb
	fx_dev 0000:07:00.0 8086:1521 020000 32 igb
	fx_dev 0000:07:00.1 8086:1521 020000 32 igb
	printf '8086:1533\n8086:1521\n' >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:05:00.0)" = igb ]
	[ "$(fx_driver_of 0000:06:00.0)" = igb ]
	[ "$(fx_override_of 0000:05:00.0)" = "(null)" ]
	[ "$(fx_override_of 0000:06:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:07:00.0)" = vfio-pci ]
	[ "$(fx_driver_of 0000:07:00.1)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 30: refused: 0000:05:00.0 [8086:1533] Ethernet controller (on igb) is one of several devices matching 8086:1533 ($CONF:1), which names none of them since the host's own may be one; binding nothing in this group (write the address of the one you mean instead, e.g. the line 0000:05:00.0; gpupass list shows them)"
	assert_line --partial "<11>gpupass: group 31: refused: 0000:06:00.0 [8086:1533] Ethernet controller (on igb) is one of several devices matching 8086:1533"
	assert_line "<13>gpupass: group 32: 2/2 functions on vfio-pci"
}

@test "two identical GPUs, one the boot VGA: an id entry binds the other and refuses the console's group" {
	fx_card 01 14
	fx_card 02 15
	fx_attr 0000:01:00.0 boot_vga 1
	fx_attr 0000:02:00.0 boot_vga 0
	echo "10de:1e84" >"$CONF"
	run gp bind
	assert_success
	for f in 0 1 2 3; do
		[ "$(fx_driver_of 0000:02:00.$f)" = vfio-pci ]
		[ "$(fx_override_of 0000:01:00.$f)" = "(null)" ]
	done
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ -z "$(fx_unbound 0000:01:00.0 nouveau)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: 0000:01:00.0 [10de:1e84] VGA compatible controller (on nouveau) is the boot VGA device (the host's console), and 10de:1e84 ($CONF:1) matches other cards too; binding nothing in this group (to pass it too, add the line 0000:01:00.0)"
	assert_line "<13>gpupass: group 15: 4/4 functions on vfio-pci"
	assert_line "<12>gpupass: done: 1 group on vfio-pci, 1 target skipped"
}

@test "the boot VGA device named by address as well as by id goes too" {
	fx_card 01 14
	fx_card 02 15
	fx_attr 0000:01:00.0 boot_vga 1
	printf '10de:1e84\n0000:01:00.0\n' >"$CONF"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	assert_line "<13>gpupass: group 15: 4/4 functions on vfio-pci"
}

@test "eight identical accelerators, none the boot VGA: an id entry binds all eight" {
	local i bus
	for i in 0 1 2 3 4 5 6 7; do
		bus=$(printf %02x $((0x41 + i)))
		fx_dev "0000:$bus:00.0" 10de:20b0 030200 $((40 + i)) nvidia
	done
	echo "10de:20b0" >"$CONF"
	run gp bind
	assert_success
	for i in 0 1 2 3 4 5 6 7; do
		bus=$(printf %02x $((0x41 + i)))
		[ "$(fx_driver_of "0000:$bus:00.0")" = vfio-pci ]
	done
	run cat "$KMSG"
	assert_line "<13>gpupass: done: 8 groups on vfio-pci, 0 targets skipped"
}

# An Intel desktop: the CPU's x16 and x8 root ports share group 1, a card behind each.
two_cards_one_group() {
	fx_dev 0000:00:01.0 8086:1901 060400 1 pcieport 1
	fx_dev 0000:00:01.1 8086:1905 060400 1 pcieport 1
	fx_card 01 1 10de:1e84
	fx_card 02 1 10de:1f08
}

@test "two GPUs in one group: naming the guest card refuses the group and names the host's card" {
	two_cards_one_group
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<11>gpupass: group 1: refused: it holds 0000:02:00.0 [10de:1f08] VGA compatible controller (display controller, on nouveau), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line 0000:02:00.0, or allow-critical to the entry)"
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 1 target skipped"
}

@test "two GPUs in one group: naming both binds all eight functions and no bridge" {
	two_cards_one_group
	printf '01:00.0\n02:00.0\n' >"$CONF"
	run gp bind
	assert_success
	for b in 01 02; do
		for f in 0 1 2 3; do
			[ "$(fx_driver_of "0000:$b:00.$f")" = vfio-pci ]
		done
	done
	for f in 0 1; do
		[ "$(fx_driver_of "0000:00:01.$f")" = pcieport ]
		[ "$(fx_override_of "0000:00:01.$f")" = "(null)" ]
		[ -z "$(fx_unbound "0000:00:01.$f" pcieport)" ]
	done
	run cat "$KMSG"
	assert_line "<13>gpupass: group 1: 8/8 functions on vfio-pci"
}

@test "a network controller sharing the card's group refuses it: a headless host's way in" {
	fx_card 01 14
	fx_dev 0000:00:1c.0 8086:15b8 020000 14 e1000e
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: it holds 0000:00:1c.0 [8086:15b8] Ethernet controller (network controller, on e1000e), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line 0000:00:1c.0, or allow-critical to the entry)"
}

# A Ryzen board: the GPP bridge group holds the dummy host bridge (type 0, class 0x0600,
# unbound) and the switch in front of the card.
amd_gpu_behind_switch() {
	rm -rf "$SYS"; fx_init
	fx_dev 0000:00:00.0 1022:1480 060000 - - 0
	fx_dev 0000:00:03.0 1022:1482 060000 2 - 0
	fx_dev 0000:00:03.1 1022:1483 060400 2 pcieport 1
	fx_dev 0000:0a:00.0 1002:1478 060400 2 pcieport 1
	fx_dev 0000:0b:00.0 1002:1479 060400 2 pcieport 1
	fx_dev 0000:0c:00.0 1002:73bf 030000 2 amdgpu
	fx_dev 0000:0c:00.1 1002:ab28 040300 2 snd_hda_intel
}

@test "AMD: the dummy host bridge and the switch stay; only the GPU's functions are bound" {
	amd_gpu_behind_switch
	echo "0c:00.0" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:0c:00.0)" = vfio-pci ]
	[ "$(fx_driver_of 0000:0c:00.1)" = vfio-pci ]
	for a in 0000:00:03.0 0000:00:03.1 0000:0a:00.0 0000:0b:00.0; do
		[ "$(fx_override_of $a)" = "(null)" ]
	done
	run cat "$KMSG"
	assert_line "<13>gpupass: group 2: 2/2 functions on vfio-pci"
	run gp check
	assert_success
	assert_line "group 2: 0000:00:03.0 [1022:1482] Host bridge: bridge, stays on no driver"
}

@test "a host bridge bound to a driver (EDAC, sensors) refuses its group, naming driver and function" {
	amd_gpu_behind_switch
	fx_bind 0000:00:03.0 amd64_edac
	echo "0c:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<11>gpupass: group 2: refused: 0000:00:03.0 [1022:1482] Host bridge is on amd64_edac, and a VM cannot attach a group with a member on a host driver; binding nothing in this group (blacklist the module of amd64_edac, or leave this group to the host)"
	run gp check
	assert_failure 3
	refute_output --partial "ok:"
}

@test "a Ryzen USB controller group with its Non-Essential Instrumentation function: all three bound, named by class" {
	rm -rf "$SYS"; fx_init
	fx_dev 0000:00:00.0 1022:1480 060000 - - 0
	fx_dev 0000:0d:00.0 1022:1485 130000 25 -
	fx_dev 0000:0d:00.1 1022:1486 108000 25 ccp
	fx_dev 0000:0d:00.3 1022:149c 0c0330 25 xhci_hcd
	echo "0d:00.3" >"$CONF"
	run gp check
	assert_success
	assert_line "group 25: 0000:0d:00.0 [1022:1485] Non-Essential Instrumentation: no driver -> vfio-pci"
	assert_line "group 25: 0000:0d:00.1 [1022:1486] Encryption controller: ccp -> vfio-pci"
	assert_line "group 25: 0000:0d:00.3 [1022:149c] USB controller: xhci_hcd -> vfio-pci"
	run gp bind
	assert_success
	for f in 0 1 3; do [ "$(fx_driver_of 0000:0d:00.$f)" = vfio-pci ]; done
	run cat "$KMSG"
	assert_line "<13>gpupass: group 25: 3/3 functions on vfio-pci"
}

@test "classes the table lacks are named by their base class, never just \"Class\"" {
	fx_dev 0000:05:00.0 1234:0001 118000 30 -
	fx_dev 0000:05:00.1 1234:0002 0d1100 30 -
	fx_dev 0000:05:00.2 1234:0003 ff0000 30 -
	echo "05:00.0" >"$CONF"
	run gp check
	assert_success
	assert_line "group 30: 0000:05:00.0 [1234:0001] Signal processing controller: no driver -> vfio-pci"
	assert_line "group 30: 0000:05:00.1 [1234:0002] Wireless controller: no driver -> vfio-pci"
	assert_line "group 30: 0000:05:00.2 [1234:0003] Unassigned class: no driver -> vfio-pci"
	refute_output --regexp "\] Class"
}

@test "an Intel chipset group with the onboard Ethernet: refused, naming every function the host needs" {
	fx_dev 0000:00:1f.3 8086:a348 040300 9 snd_hda_intel
	fx_dev 0000:00:1f.5 8086:a324 0c8000 9 intel-spi
	fx_dev 0000:00:1f.6 8086:15bc 020000 9 e1000e
	echo "00:1f.3" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<11>gpupass: group 9: refused: it holds 0000:00:1f.6 [8086:15bc] Ethernet controller (network controller, on e1000e), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line 0000:00:1f.6, or allow-critical to the entry)"
	assert_line --partial "<11>gpupass: group 9: refused: it holds 0000:00:1f.2 [8086:a352] SATA controller"
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 1 target skipped"
	run gp check
	assert_failure 3
}

@test "an id entry with allow-critical still does not pass one of two identical drives" {
	fx_nvme 0000:03:00.0 20
	fx_nvme 0000:04:00.0 21
	echo "144d:a808 allow-critical" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<12>gpupass: done: 0 groups on vfio-pci, 2 targets skipped"
}

@test "allow-critical on a group refused anyway says nothing is allowed, and binds nothing" {
	fx_dev 0000:00:1f.3 8086:a348 040300 9 snd_hda_intel
	fx_bind 0000:00:1f.0 lpc_ich
	echo "00:1f.3 allow-critical" >"$CONF"
	run gp bind
	assert_success
	nothing_written
	run cat "$KMSG"
	assert_line "<11>gpupass: group 9: refused: 0000:00:1f.0 [8086:a305] ISA bridge is on lpc_ich, and a VM cannot attach a group with a member on a host driver; binding nothing in this group (blacklist the module of lpc_ich, or leave this group to the host)"
	refute_output --partial "allowed"
	refute_output --partial "by allow-critical"
	refute_output --partial "is a ISA"
}

@test "allow-critical in a group refused for another reason: no member is reported as allowed" {
	fx_dev 0000:00:1f.3 8086:a348 040300 9 snd_hda_intel
	fx_attr 0000:00:1f.3 sriov_numvfs 2
	echo "00:1f.3 allow-critical" >"$CONF"
	run gp check
	assert_failure 3
	assert_line --partial "error: group 9: refused: 0000:00:1f.3 [8086:a348] Audio device has 2 SR-IOV virtual functions enabled"
	refute_output --partial "allowed"
	refute_output --partial "by allow-critical"
}
