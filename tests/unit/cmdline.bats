#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Kernel command line: gpupass=off|on|dry-run and gpupass.add=, later ones winning.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
	fx_card 01 14
	fx_card 02 15
	echo "01:00.0" >"$CONF"
}

untouched() {
	local f
	for f in 0 1 2 3; do
		[ "$(fx_override_of 0000:01:00.$f)" = "(null)" ] || return 1
		[ "$(fx_override_of 0000:02:00.$f)" = "(null)" ] || return 1
	done
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
}

@test "gpupass=off binds nothing and says so" {
	echo "root=/dev/sda1 gpupass=off quiet" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_output "<13>gpupass: disabled by gpupass=off on the kernel command line: binding nothing"
	run grep -x "mode off" "$RUN/status"
	assert_success
}

@test "gpupass=off wins even over a broken config" {
	echo "garbage" >"$CONF"
	echo "gpupass=off" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<13>gpupass: disabled by gpupass=off on the kernel command line: binding nothing"
	refute_output --partial "in the configuration: binding nothing"
	run grep -x "mode off" "$RUN/status"
	assert_success
}

@test "gpupass=dry-run logs the plan and binds nothing" {
	echo "gpupass=dry-run" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<13>gpupass: gpupass 0.1.0: 1 entry, dry-run (gpupass=dry-run): binding nothing"
	assert_line "<13>gpupass: dry-run: group 14: would bind 4 functions"
	assert_line "<14>gpupass: dry-run: group 14: 0000:01:00.1 [10de:10f8] Audio device: snd_hda_intel -> vfio-pci"
	run grep -x "group 14 planned 0 4" "$RUN/status"
	assert_success
}

@test "bind --dry-run is the same as gpupass=dry-run" {
	run gp bind --dry-run
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<13>gpupass: dry-run: group 14: would bind 4 functions"
}

@test "a later gpupass= overrides an earlier one" {
	echo "gpupass=off gpupass=on" >"$CMDLINE"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:01:00.0)" = vfio-pci ]
	run cat "$KMSG"
	assert_line "<13>gpupass: group 14: 4/4 functions on vfio-pci"
	run grep -x "mode bind" "$RUN/status"
	assert_success
}

@test "an earlier gpupass= is overridden by a later off" {
	echo "gpupass=on gpupass=dry-run gpupass=off" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_output "<13>gpupass: disabled by gpupass=off on the kernel command line: binding nothing"
	run grep -x "mode off" "$RUN/status"
	assert_success
}

@test "a later gpupass=dry-run overrides an earlier off" {
	echo "gpupass=off gpupass=dry-run" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<13>gpupass: dry-run: group 14: would bind 4 functions"
	run grep -x "mode dry-run" "$RUN/status"
	assert_success
}

@test "gpupass.add= adds an entry, words separated by commas" {
	rm "$CONF"
	echo "root=/dev/sda1 gpupass.add=0000:02:00.0,10de:1e84" >"$CMDLINE"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:02:00.0)" = vfio-pci ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	run cat "$KMSG"
	assert_line "<14>gpupass: kernel command line:1: 0000:02:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 15"
}

@test "gpupass.add= entries add to the file's" {
	echo 'gpupass.add=02:00.0 gpupass.add="10de:10f8"' >"$CMDLINE"
	run gp check
	assert_success
	assert_output --partial "ok: 2 groups would be bound"
	assert_output --partial "kernel command line:2: 0000:01:00.1"
}

@test "a bad gpupass.add= binds nothing at all" {
	echo "gpupass.add=02:00.0,10de:1e8x" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<11>gpupass: kernel command line: gpupass.add=02:00.0,10de:1e8x: a vendor:device id has 4 hex digits on each side, as lspci -nn shows: '10de:1e8x'"
}

@test "an unknown gpupass= value is an error and binds nothing" {
	echo "gpupass=yes" >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<11>gpupass: kernel command line: gpupass=yes: unknown value (on, off or dry-run)"
}

@test "an unknown gpupass.* parameter is an error" {
	echo "gpupass.ids=10de:1e84" >"$CMDLINE"
	run gp check
	assert_failure 1
	assert_output --partial "error: kernel command line: gpupass.ids=10de:1e84: unknown parameter (gpupass=, gpupass.add= or gpupass.timeout=)"
}

@test "other parameters that merely contain gpupass are ignored" {
	echo "mygpupass=off foo.gpupass=1 gpupassthrough=1" >"$CMDLINE"
	run gp bind
	assert_success
	[ "$(fx_driver_of 0000:01:00.0)" = vfio-pci ]
	run cat "$KMSG"
	refute_output --partial "kernel command line"
	assert_line "<13>gpupass: done: 1 group on vfio-pci, 0 targets skipped"
}

@test "a --cmdline naming a missing file: check refuses it, bind binds nothing" {
	rm "$CMDLINE"
	run --separate-stderr gp check
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "gpupass: --cmdline $CMDLINE: no such file"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line "<11>gpupass: $CMDLINE: cannot read: No such file or directory"
}

@test "an empty gpupass.add= is named as empty, and binds nothing" {
	echo "root=/dev/sda1 gpupass.add= quiet" >"$CMDLINE"
	run --separate-stderr gp check
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "error: kernel command line: gpupass.add= is empty (give an address or a vendor:device id)"
	run gp bind
	assert_success
	untouched
}

@test "bind --dry-run says the option asked for it, not the command line" {
	echo "quiet" >"$CMDLINE"
	run gp bind --dry-run
	assert_success
	run cat "$KMSG"
	assert_line "<13>gpupass: gpupass 0.1.0: 1 entry, dry-run (--dry-run): binding nothing"
	refute_output --partial "gpupass=dry-run"
}

@test "check mentions gpupass=dry-run on the command line, as it does gpupass=off" {
	echo "quiet gpupass=dry-run" >"$CMDLINE"
	run --separate-stderr gp check
	assert_success
	assert_line "this boot has gpupass=dry-run on its kernel command line: it bound nothing"
	echo "quiet gpupass=off" >"$CMDLINE"
	run --separate-stderr gp check
	assert_line "this boot has gpupass=off on its kernel command line"
}

@test "double quotes keep a blank inside one parameter, as the kernel's parser does" {
	rm "$CONF"
	# Split at the blank, the entry would lose its pin and bind 02:00.0.
	echo 'root=/dev/sda1 "gpupass.add=02:00.0 1002:1e84" quiet' >"$CMDLINE"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:02:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:02:00.0)" = nouveau ]
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: kernel command line:1: 0000:02:00.0 is [10de:1e84], not [1002:1e84]"
}

# The kernel splits parameters at blanks only: any other byte reaches gpupass, and from
# there the console and the journal, as the config file's lines never do unquoted.
@test "command-line values reach kmsg with control and non-ASCII bytes quoted as \\xNN" {
	printf 'gpupass=\033[2J gpupass.add=02:00.0,\033]0;owned\a gpupass.x\033=1 gpupass.add=\303\251\n' >"$CMDLINE"
	run gp bind
	assert_success
	untouched
	run cat "$KMSG"
	assert_line '<11>gpupass: kernel command line: gpupass=\x1b[2J: unknown value (on, off or dry-run)'
	assert_line "<11>gpupass: kernel command line: gpupass.add=02:00.0,\\x1b]0;owned\\x07: unknown word (expected an address, a vendor:device id or allow-critical): '\\x1b]0;owned\\x07'"
	assert_line '<11>gpupass: kernel command line: gpupass.x\x1b=1: unknown parameter (gpupass=, gpupass.add= or gpupass.timeout=)'
	assert_line "<11>gpupass: kernel command line: gpupass.add=\\xc3\\xa9: unknown word (expected an address, a vendor:device id or allow-critical): '\\xc3\\xa9'"
	run env LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f-\xff]' "$KMSG"
	assert_output 0
}

@test "gpupass.timeout= outside 1-600 seconds is an error and binds nothing" {
	for t in 0 601 1x "" -5 00; do
		echo "root=/dev/sda1 gpupass.timeout=$t" >"$CMDLINE"
		: >"$KMSG"
		run gp bind
		assert_success
		untouched
		run cat "$KMSG"
		assert_line "<11>gpupass: kernel command line: gpupass.timeout=$t: not a number of seconds from 1 to 600"
	done
}

@test "gpupass.timeout=600, the most it allows, is taken" {
	echo "root=/dev/sda1 gpupass.timeout=600" >"$CMDLINE"
	run gp check
	assert_success
	refute_output --partial "gpupass.timeout"
}
