#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# gpupass list: each function marked with what the next boot does to it,
# and lspci's -s / -d filters.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
	fx_card 01 14
	fx_card 02 15
	echo "02:00.0" >"$CONF"
}

# line_of ADDR: the list line of the function at ADDR.
line_of() { grep -F "  $1 " <<<"$output"; }

@test "the target and the functions that go with it are marked -> vfio-pci" {
	run --separate-stderr gp list
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(line_of 0000:02:00.0)" "  0000:02:00.0 VGA compatible controller [0300]: [10de:1e84] (nouveau)  -> vfio-pci ($CONF:1)"
	assert_equal "$(line_of 0000:02:00.3)" "  0000:02:00.3 Serial bus controller [0c80]: [10de:1ad9] (nvidia-gpu)  -> vfio-pci (same group as $CONF:1)"
	assert_equal "$(line_of 0000:01:00.0)" "  0000:01:00.0 VGA compatible controller [0300]: [10de:1e84] (nouveau)"
}

@test "a group check refuses is marked refused, not as a target" {
	fx_dev 0000:00:1f.6 8086:15bc 020000 9 e1000e
	echo "00:1f.6" >"$CONF"
	run --separate-stderr gp list
	assert_success
	assert_equal "$(line_of 0000:00:1f.6)" "  0000:00:1f.6 Ethernet controller [0200]: [8086:15bc] (e1000e)  refused ($CONF:1; see gpupass check)"
	assert_equal "$(line_of 0000:00:1f.2)" "  0000:00:1f.2 SATA controller [0106]: [8086:a352] (ahci)  refused with its group (see gpupass check)"
	refute_output --partial -- "-> vfio-pci"
}

@test "a bridge is marked: one in a target's group stays, one named is not bound" {
	fx_dev 0000:00:01.0 8086:1901 060400 15 pcieport 1
	printf '02:00.0\n00:1f.0\n' >"$CONF"
	run --separate-stderr gp list
	assert_success
	assert_equal "$(line_of 0000:00:01.0)" "  0000:00:01.0 PCI bridge [0604]: [8086:1901] (pcieport)  bridge (stays on pcieport)"
	assert_equal "$(line_of 0000:00:1f.0)" "  0000:00:1f.0 ISA bridge [0601]: [8086:a305] (no driver)  bridge: not bound ($CONF:2)"
}

@test "a file with errors: nothing is marked for binding, and a warning says why" {
	printf '02:00.0\n01:00.0 oops\n' >"$CONF"
	run --separate-stderr gp list
	assert_success
	assert_equal "$(line_of 0000:02:00.0)" "  0000:02:00.0 VGA compatible controller [0300]: [10de:1e84] (nouveau)  not bound: the configuration has errors ($CONF:1)"
	refute_output --partial -- "-> vfio-pci"
	assert_equal "$stderr" "warning: 1 error in the configuration: the next boot binds nothing (run gpupass check)"
}

@test "a --config naming a missing file is a warning for list" {
	rm "$CONF"
	run --separate-stderr gp list
	assert_success
	assert_equal "$stderr" "warning: $CONF: no such file: the next boot binds nothing"
}

@test "-s keeps the group of the function at that address, whole" {
	run --separate-stderr gp list -s 02:00.1
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(grep -c '^IOMMU group' <<<"$output")" 1
	assert_line --index 0 "IOMMU group 15"
	assert_equal "${#lines[@]}" 5
}

@test "-d keeps every group holding that id; -s and -d together must both match" {
	run gp list -d 10DE:1E84
	assert_success
	run grep '^IOMMU group' <<<"$output"
	assert_output "$(printf 'IOMMU group 14\nIOMMU group 15')"
	run gp list -s 0000:01:00.0 -d 10de:1e84
	assert_success
	assert_equal "$(grep -c '^IOMMU group' <<<"$output")" 1
	assert_line "IOMMU group 14"
	run --separate-stderr gp list -s 01:00.1 -d 10de:1e84
	assert_success
	assert_output ""
}

@test "-s with the IOMMU off keeps the matching functions" {
	rm -rf "$SYS/kernel/iommu_groups"/*
	run --separate-stderr gp list -s 01:00.0
	assert_failure 3
	assert_output "  0000:01:00.0 VGA compatible controller [0300]: [10de:1e84] (nouveau)"
}
