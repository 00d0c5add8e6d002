#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The host-side commands: list, check, status, and the command line of gpupass itself.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
	fx_card 01 14
	fx_card 02 15
	echo "02:00.0 10de:1e84" >"$CONF"
	cat >"$BATS_TEST_TMPDIR/pci.ids" <<'IDS'
# a small pci.ids
10de  NVIDIA Corporation
	1e84  TU104 [GeForce RTX 2070 SUPER]
		1043 8707  ROG STRIX
	10f8  TU104 HD Audio Controller
8086  Intel Corporation
	a352  Cannon Lake PCH SATA AHCI Controller
C 03  Display controller
	00  VGA compatible controller
IDS
}

@test "list shows every group, names from pci.ids, drivers and the config's targets" {
	run gp list
	assert_success
	assert_line "IOMMU group 9"
	assert_line "  0000:00:1f.2 SATA controller [0106]: Intel Corporation Cannon Lake PCH SATA AHCI Controller [8086:a352] (ahci)"
	assert_line "  0000:00:1f.4 SMBus [0c05]: Intel Corporation Device [8086:a323] (i801_smbus)"
	assert_line "IOMMU group 15"
	assert_line "  0000:02:00.0 VGA compatible controller [0300]: NVIDIA Corporation TU104 [GeForce RTX 2070 SUPER] [10de:1e84] (nouveau)  -> vfio-pci ($CONF:1)"
	assert_line "  0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation TU104 [GeForce RTX 2070 SUPER] [10de:1e84] (nouveau)"
	assert_line "  0000:02:00.1 Audio device [0403]: NVIDIA Corporation TU104 HD Audio Controller [10de:10f8] (snd_hda_intel)  -> vfio-pci (same group as $CONF:1)"
}

@test "list orders groups by number, not by name" {
	fx_dev 0000:05:00.0 1234:1111 030000 100 bochs-drm
	run gp list
	assert_success
	run grep '^IOMMU group' <<<"$output"
	assert_output "$(printf 'IOMMU group 9\nIOMMU group 14\nIOMMU group 15\nIOMMU group 100')"
}

@test "list with an empty pci.ids shows the ids alone" {
	: >"$BATS_TEST_TMPDIR/pci.ids"
	run gp list
	assert_success
	assert_line "  0000:00:1f.2 SATA controller [0106]: [8086:a352] (ahci)"
}

@test "list with the IOMMU off says so and lists the functions" {
	rm -rf "$SYS/kernel/iommu_groups"/*
	run --separate-stderr gp list
	assert_failure 3
	assert_equal "$stderr" "error: no IOMMU groups: the IOMMU is off (add intel_iommu=on or amd_iommu=on to the kernel command line)"
	assert_line --partial "  0000:01:00.0 VGA compatible controller [0300]"
}

@test "list and check write nothing" {
	find "$SYS" "$BATS_TEST_TMPDIR" -type f -exec md5sum {} + | sort >"$BATS_TEST_TMPDIR/before"
	run gp list
	assert_success
	assert_line --partial "IOMMU group 15"
	run gp check
	assert_success
	assert_line --partial "ok: 1 group would be bound"
	find "$SYS" "$BATS_TEST_TMPDIR" -type f ! -name before ! -name after -exec md5sum {} + | sort >"$BATS_TEST_TMPDIR/after"
	grep -v ' .*/before$' "$BATS_TEST_TMPDIR/before" | diff - "$BATS_TEST_TMPDIR/after"
	[ ! -e "$RUN" ]
}

@test "check shows the plan and exits 0 when every target would be bound" {
	run gp check
	assert_success
	assert_line "$CONF:1: 0000:02:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 15"
	assert_line "group 15: would bind 4 functions"
	assert_line "group 15: 0000:02:00.2 [10de:1ad8] USB controller: xhci_hcd -> vfio-pci"
	assert_line "ok: 1 group would be bound"
}

@test "check: the plan on stdout, diagnostics on stderr" {
	fx_dev 0000:00:14.0 8086:a36d 0c0330 15 xhci_hcd
	run --separate-stderr gp check
	assert_success
	assert_line "group 15: would bind 5 functions"
	assert_line "ok: 1 group would be bound"
	refute_output --partial "warning:"
	assert_equal "$stderr" "warning: group 15: 0000:00:14.0 [8086:a36d] USB controller (on xhci_hcd) is not part of the card but shares its IOMMU group: it goes to vfio-pci too"
}

@test "a wrong pinned id: its error and the summary agree, both on stderr, exit 3" {
	echo "02:00.0 10de:2204" >"$CONF"
	run --separate-stderr gp check
	assert_failure 3
	assert_output ""
	assert_equal "$stderr" "$(printf '%s\n' \
		"error: $CONF:1: 0000:02:00.0 is [10de:1e84], not [10de:2204]: the card was moved or replaced; binding nothing for this entry (fix the entry, then regenerate the initramfs)" \
		"error: 1 target would not be bound; 0 groups would be")"
}

@test "check exits 1 on configuration errors" {
	echo "02:00.0 10de:1e84 oops" >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "$CONF:1: unknown word (expected an address, a vendor:device id or allow-critical): 'oops'"
	assert_output --partial "1 error: at boot gpupass would bind nothing"
	refute_output --partial "would bind 4 functions"
}

@test "check exits 3 when a target would be refused" {
	echo "00:1f.2" >>"$CONF"
	fx_dev 0000:00:1f.6 8086:15bc 020000 9 e1000e
	echo "00:1f.6" >"$CONF"
	run gp check
	assert_failure 3
	assert_line --partial "error: group 9: refused: it holds 0000:00:1f.2 [8086:a352] SATA controller"
	assert_line "error: 1 target would not be bound; 0 groups would be"
}

@test "check warns when the config is writable by others than root" {
	chmod 666 "$CONF"
	run gp check
	assert_success
	assert_line --partial "warning: $CONF is writable by others than root"
	assert_line --partial "mode 666"
	chmod 644 "$CONF"
	if [ "$(id -u)" = 0 ]; then
		run gp check
		assert_success
		refute_output --partial "writable by others"
	fi
}

@test "check says when the config differs from the one this boot used" {
	run gp bind
	assert_success
	run gp check
	assert_success
	refute_output --partial "differs from the one this boot used"
	echo "01:00.0" >>"$CONF"
	run gp check
	assert_success
	assert_line "warning: $CONF differs from the one this boot used: regenerate the initramfs (update-initramfs -u, or dracut -f) and reboot"
}

@test "check says so when a config appeared after a boot without one" {
	mv "$CONF" "$CONF.save"
	run gp bind
	assert_success
	mv "$CONF.save" "$CONF"
	run gp check
	assert_success
	assert_line --partial "differs from the one this boot used"
}

@test "status: every function on vfio-pci but no /dev/vfio/N is exit 6, not a host driver's fault" {
	run gp bind
	assert_success
	mkdir -p "$BATS_TEST_TMPDIR/dev/vfio"
	run --separate-stderr gp status
	assert_failure 6
	assert_line "mode at boot: bind"
	assert_line "group 15: bound at boot; now 4/4 functions on vfio-pci; viable: unknown (no $BATS_TEST_TMPDIR/dev/vfio/15 although every function is on vfio-pci: is $BATS_TEST_TMPDIR/dev a devtmpfs?)"
	assert_line "  0000:02:00.0 [10de:1e84] vfio-pci"
	refute_output --partial "host driver"
	run gp status --json
	assert_failure 6
	assert_output --partial '"viable":null,"in_use":false,"reason":"no '"$BATS_TEST_TMPDIR"'/dev/vfio/15 although every function is on vfio-pci: is '"$BATS_TEST_TMPDIR"'/dev a devtmpfs?","exit":6,'
}

@test "status: no /dev/vfio/N while a function is on a host driver is not viable, exit 3" {
	run gp bind
	assert_success
	rm "$SYS/devices/pci0000:00/0000:02:00.1/driver"
	fx_bind 0000:02:00.1 snd_hda_intel
	run gp status
	assert_failure 3
	assert_line "group 15: bound at boot; now 3/4 functions on vfio-pci; viable: no (no $BATS_TEST_TMPDIR/dev/vfio/15)"
}

@test "status exits 3 when a function fell back to a host driver" {
	run gp bind
	assert_success
	fx_bind 0000:02:00.1 snd_hda_intel
	run gp status
	assert_failure 3
	assert_line --partial "group 15: bound at boot; now 3/4 functions on vfio-pci"
	assert_line "  0000:02:00.1 [10de:10f8] snd_hda_intel"
}

@test "status cannot tell viability through a node that is not a vfio group" {
	run gp bind
	assert_success
	mkdir -p "$BATS_TEST_TMPDIR/dev/vfio"
	: >"$BATS_TEST_TMPDIR/dev/vfio/15"
	run gp status
	assert_success
	assert_line --partial "viable: unknown (VFIO_GROUP_GET_STATUS on $BATS_TEST_TMPDIR/dev/vfio/15:"
}

@test "status --json" {
	run gp bind
	assert_success
	fx_bind 0000:02:00.1 snd_hda_intel
	run gp status --json
	assert_failure 3
	assert_output --partial '{"ran":true,"mode":"bind","config_changed":false,"groups":[{"group":15,"state":"bound","on_vfio":3,"functions":4,"viable":false,"in_use":false,"reason":"1 of 4 functions not on vfio-pci","exit":3,'
	assert_output --partial '{"address":"0000:02:00.1","id":"10de:10f8","driver":"snd_hda_intel"}'
	rm "$SYS/devices/pci0000:00/0000:02:00.1/driver"
	run gp status --json
	assert_failure 3
	assert_output --partial '{"address":"0000:02:00.1","id":"10de:10f8","driver":null}'
	assert_output --partial '"exit":3}'
	command -v jq >/dev/null || fx_needs jq "to parse the JSON"
	jq -e . >/dev/null <<<"$output"
}

@test "status exits 5 when gpupass did not run in this boot" {
	run gp status
	assert_failure 5
	assert_output --partial "gpupass did not run in this boot (no $RUN/status"
	run gp status --json
	assert_failure 5
	assert_output '{"ran":false}'
}

@test "status reports a refused group with exit 3" {
	echo "00:1f.2 8086:a352" >"$CONF"
	fx_dev 0000:00:1f.6 8086:15bc 020000 9 e1000e
	echo "00:1f.6" >"$CONF"
	run gp bind
	assert_success
	run gp status
	assert_failure 3
	assert_line --partial "group 9: refused at boot"
}

@test "status after gpupass=off says so" {
	echo "gpupass=off" >"$CMDLINE"
	run gp bind
	assert_success
	run gp status
	assert_success
	assert_line "mode at boot: off"
	assert_line "no groups were planned at boot"
}

@test "--help lists the commands and exit codes, --version the version" {
	run "$GPUPASS" --help
	assert_success
	assert_line --regexp '^  bind +bind the configured groups to vfio-pci'
	assert_line --regexp '^  status '
	assert_output --partial "exit status: 0 ok, 1 configuration errors, 2 usage"
	run "$GPUPASS" --version
	assert_success
	assert_output "gpupass 0.1.0"
	run "$GPUPASS" check --help
	assert_success
}

@test "usage errors exit 2 and name what is wrong, on stderr" {
	run --separate-stderr "$GPUPASS"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "usage: gpupass COMMAND [OPTIONS]"
	run --separate-stderr "$GPUPASS" frobnicate
	assert_failure 2
	assert_equal "$stderr" "gpupass: unknown command 'frobnicate' (bind, check, list, status, release, claim, manifest, help, version)"
	run --separate-stderr "$GPUPASS" check extra
	assert_failure 2
	assert_equal "$stderr" "gpupass: unexpected argument 'extra' (see gpupass --help)"
}

@test "status after a boot whose configuration had errors exits 3 and says so" {
	echo "02:00.0 oops" >"$CONF"
	run gp bind
	assert_success
	run gp status
	assert_failure 3
	assert_line "mode at boot: error (the configuration had errors: nothing was bound; see dmesg)"
}
