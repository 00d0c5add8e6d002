#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Hostile inputs not covered by the other suites: each has one exact outcome,
# an error naming file and line (or attribute and function), nothing bound,
# and the documented exit status. Also: the host commands need no privileges.
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
	fx_card 01 14
}

# refused_line TEXT MESSAGE: check names file:line and the text, exit 1.
refused_line() {
	printf '01:00.0\n%s\n' "$1" >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: $2"
}

# nothing_bound: the card kept its drivers and no override was written.
nothing_bound() {
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
}

@test "trailing garbage after an address is an error" {
	refused_line "01:00.0x" "bad PCI function number (0 to 7): '01:00.0x'"
	refused_line "01:00.0.1" "bad PCI device number (00 to 1f): '01:00.0.1'"
}

@test "mixed-case hex in an address and an id names the same device" {
	fx_card 0a 20
	echo "0000:0A:00.0 10De:1E84" >"$CONF"
	run gp check
	assert_success
	assert_output --partial "$CONF:1: 0000:0a:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 20"
}

@test "a line of 255 characters is read, one of 256 is refused" {
	printf '%-255s\n' "01:00.0" >"$CONF"
	run gp check
	assert_success
	printf '%-256s\n' "01:00.0" >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:1: line longer than 255 characters: '01:00.0   "
}

@test "a config that is a FIFO is refused, not waited on" {
	rm -f "$CONF"
	mkfifo "$CONF"
	run timeout 10 "$GPUPASS" bind --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$RUN" --modprobe "$MODPROBE" --dev "$BATS_TEST_TMPDIR/dev"
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF: cannot read: not a regular file"
}

@test "a gpupass.add= longer than any buffer is an error and binds nothing" {
	rm -f "$CONF"
	echo "gpupass.add=01:00.0,$(printf '%0300d' 0)" >"$CMDLINE"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: kernel command line: gpupass.add= longer than 255 characters"
}

@test "a NUL byte in the command line is an error and binds nothing" {
	rm -f "$CONF"
	printf 'gpupass.add=01:00.0\0gpupass=off\n' >"$CMDLINE"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CMDLINE: NUL byte in the command line"
}

@test "non-ASCII text in gpupass.add= is an error naming the word" {
	rm -f "$CONF"
	printf 'gpupass.add=01:00.0,\xc3\xa9\n' >"$CMDLINE"
	run gp check
	assert_failure 1
	assert_output --partial "error: kernel command line: gpupass.add=01:00.0,"
	assert_output --partial "unknown word (expected an address, a vendor:device id or allow-critical)"
}

@test "out-of-range numbers in gpupass.add= are refused" {
	rm -f "$CONF"
	echo "gpupass.add=01:00.8 gpupass.add=01:20.0" >"$CMDLINE"
	run gp check
	assert_failure 1
	assert_output --partial "error: kernel command line: gpupass.add=01:00.8: bad PCI function number (0 to 7): '01:00.8'"
	assert_output --partial "error: kernel command line: gpupass.add=01:20.0: bad PCI device number (00 to 1f): '01:20.0'"
}

@test "an attribute longer than its buffer makes the device unreadable" {
	printf '0x10de%0200d\n' 0 >"$SYS/devices/pci0000:00/0000:01:00.0/vendor"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read vendor of 0000:01:00.0: binding nothing for this entry"
}

@test "an attribute with a NUL byte in it makes the device unreadable" {
	printf '0x10\0de\n' >"$SYS/devices/pci0000:00/0000:01:00.0/vendor"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read vendor of 0000:01:00.0: binding nothing for this entry"
}

@test "a config space too short to hold the header type makes the device unreadable" {
	head -c 8 /dev/zero >"$SYS/devices/pci0000:00/0000:01:00.0/config"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read config of 0000:01:00.0: binding nothing for this entry"
}

@test "an iommu_group link whose name is not a number refuses the entry" {
	fx_link ../../../kernel/iommu_groups/x14 "$SYS/devices/pci0000:00/0000:01:00.0/iommu_group"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read iommu_group of 0000:01:00.0: binding nothing for this entry"
}

# klibc's strtol wraps instead of reporting ERANGE: 2^64 + 14 must not read as group 14.
@test "an iommu_group link whose number overflows refuses the entry" {
	fx_link ../../../kernel/iommu_groups/18446744073709551630 \
		"$SYS/devices/pci0000:00/0000:01:00.0/iommu_group"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read iommu_group of 0000:01:00.0: binding nothing for this entry"
}

@test "list skips a group directory whose number overflows" {
	mkdir -p "$SYS/kernel/iommu_groups/18446744073709551625/devices"
	ln -s ../../../../devices/pci0000:00/0000:00:1f.2 \
		"$SYS/kernel/iommu_groups/18446744073709551625/devices/0000:00:1f.2"
	run gp list
	assert_success
	assert_equal "$(grep -c '^IOMMU group 9$' <<<"$output")" 1
	assert_line "IOMMU group 14"
}

@test "list skips a directory under iommu_groups that is not a group number" {
	mkdir -p "$SYS/kernel/iommu_groups/stray/devices"
	ln -s ../../../../devices/pci0000:00/0000:00:1f.2 "$SYS/kernel/iommu_groups/stray/devices/0000:00:1f.2"
	run gp list
	assert_success
	refute_line --partial "IOMMU group 0"
	assert_line "IOMMU group 9"
	assert_line "IOMMU group 14"
}

# as_nobody CMD...: gp as user nobody, with no groups and no capabilities.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$GPUPASS" "$@" --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
		--run "$RUN" --modprobe "$MODPROBE" --dev "$BATS_TEST_TMPDIR/dev" --pci-ids "$BATS_TEST_TMPDIR/pci.ids" \
		--root "$ROOTFS"
}

@test "list, check and status run as nobody, say what they say as root and write nothing" {
	[ "$(id -u)" = 0 ] || fx_needs root "to become nobody"
	fx_card 02 15
	echo "02:00.0" >"$CONF"
	gp bind
	chmod 644 "$CONF"
	# Readable and traversable by all, writable by all: any write would show.
	chmod -R a+rwX "$SYS" "$RUN"
	d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
	chmod a+rx "$BATS_TEST_TMPDIR"
	snapshot() { find "$BATS_TEST_TMPDIR" -path "$BATS_TEST_TMPDIR/out.*" -prune -o -printf '%p %y %s %m %T@\n' | sort; }
	snapshot >"$BATS_TEST_TMPDIR/out.before"
	for cmd in list check status; do
		run gp "$cmd"
		root_status=$status root_output=$output
		run as_nobody "$cmd"
		[ "$status" -eq "$root_status" ] || { echo "$cmd: exit $status as nobody, $root_status as root"; false; }
		[ "$output" = "$root_output" ] || { diff <(echo "$root_output") <(echo "$output"); false; }
	done
	snapshot | diff "$BATS_TEST_TMPDIR/out.before" -
}

@test "a group member whose own iommu_group link names another group refuses the group" {
	fx_card 02 15
	ln -s ../../../../devices/pci0000:00/0000:02:00.0 "$SYS/kernel/iommu_groups/14/devices/0000:02:00.0"
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	[ "$(fx_override_of 0000:02:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: member 0000:02:00.0 is not in this group by its own iommu_group link; binding nothing in this group"
}

# Found by fuzz_sysfs once its group records made groups: the planner bound the members
# the group listed and left out the target, taking the others for nothing.
@test "a target that its group does not list refuses the group, binding none of the members" {
	fx_dev 0000:04:00.0 144d:a808 010802 21 nvme
	fx_dev 0000:05:00.0 8086:1521 020000 - igb
	ln -s ../../../kernel/iommu_groups/21 "$SYS/devices/pci0000:00/0000:05:00.0/iommu_group"
	echo "05:00.0 allow-critical" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:04:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:04:00.0)" = nvme ]
	[ -z "$(fx_unbound 0000:04:00.0 nvme)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: group 21: refused: 0000:05:00.0 is not among its members, though its iommu_group link names it; binding nothing in this group"
}

# Attributes the kernel prints one way only: anything else is unreadable, never a default.
@test "a member's sriov_numvfs that is not a plain number refuses the group" {
	fx_attr 0000:01:00.1 sriov_numvfs 01
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: cannot read sriov_numvfs of member 0000:01:00.1; binding nothing in this group"
}

# klibc's strtoul reads "0x0x" as 0: class 0 would pass a storage controller off as harmless.
@test "a member's class that is not plain hex refuses the group" {
	fx_attr 0000:01:00.1 class 0x0x
	echo "01:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: group 14: refused: cannot read class of member 0000:01:00.1; binding nothing in this group"
}

@test "an address whose bus/pci/devices entry is a dangling link is unreadable, not absent" {
	ln -s ../../../devices/pci0000:00/0000:03:00.0 "$SYS/bus/pci/devices/0000:03:00.0"
	echo "03:00.0" >"$CONF"
	run gp bind
	assert_success
	nothing_bound
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read directory of 0000:03:00.0: binding nothing for this entry"
}

@test "an id entry: a match that cannot be read is skipped with an error, the others bind" {
	fx_card 02 15
	fx_attr 0000:02:00.0 class garbage
	echo "10de:1e84" >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:01:00.0)" = vfio-pci ]
	[ "$(fx_override_of 0000:02:00.0)" = "(null)" ]
	run cat "$KMSG"
	assert_line "<11>gpupass: $CONF:1: cannot read class of 0000:02:00.0: binding nothing for this device"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
}
