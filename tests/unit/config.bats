#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The configuration file: syntax, errors at file:line, and "any error binds nothing".
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset
	fx_card 01 14
	fx_card 02 15
}

@test "an address entry with a comment and blank lines is accepted" {
	printf '# my GPU\n\n   \n0000:01:00.0   # the top slot\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "$CONF:4: 0000:01:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 14"
	assert_output --partial "ok: 1 group would be bound"
}

@test "the domain is optional in an address" {
	echo "01:00.0" >"$CONF"
	run gp check
	assert_success
	assert_output --partial "is in IOMMU group 14"
}

@test "uppercase and mixed-case hex name the same device" {
	printf '0000:01:00.0 10DE:1E84\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "group 14: would bind 4 functions"
}

@test "CRLF line ends are accepted" {
	printf '01:00.0\r\n# comment\r\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "ok: 1 group would be bound"
}

@test "tabs separate words like spaces" {
	printf '\t01:00.0\t10de:1e84\tallow-critical\n' >"$CONF"
	run gp check
	assert_success
}

@test "an empty file names no device" {
	: >"$CONF"
	run gp check
	assert_success
	assert_output --partial "no entries: nothing to bind"
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_output --partial "<13>gpupass: $CONF names no device: nothing to do"
}

# bad_line TEXT MESSAGE: the line is refused, named with file:line and its text.
bad_line() {
	printf '01:00.0\n%s\n' "$1" >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: $2"
	assert_output --partial "1 error: at boot gpupass would bind nothing"
}

@test "an unknown word is an error naming the word" {
	bad_line "01:00.0 please" "unknown word (expected an address, a vendor:device id or allow-critical): 'please'"
}

@test "function 8 is out of range" {
	bad_line "01:00.8" "bad PCI function number (0 to 7): '01:00.8'"
}

@test "device 0x20 is out of range" {
	bad_line "01:20.0" "bad PCI device number (00 to 1f): '01:20.0'"
}

@test "a three-digit bus is out of range" {
	bad_line "100:00.0" "bad PCI bus number (00 to ff): '100:00.0'"
}

@test "an address without its function is an error, not an id" {
	bad_line "02:00" "neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function): '02:00'"
}

@test "a short id is refused: ids have four hex digits on each side" {
	bad_line "10de:1e8" "neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function): '10de:1e8'"
}

@test "trailing garbage on an id is an error" {
	bad_line "10de:1e84x" "a vendor:device id has 4 hex digits on each side, as lspci -nn shows: '10de:1e84x'"
}

@test "wildcards are refused" {
	bad_line "10de:*" "wildcards are not supported: name the vendor:device id: '10de:*'"
}

@test "path-like text is not an address" {
	bad_line "../01:00.0" "not a PCI address (bus:device.function): '../01:00.0'"
	bad_line "/sys/bus" "not a PCI address (bus:device.function): '/sys/bus'"
}

@test "two addresses on one line are an error" {
	bad_line "01:00.0 02:00.0" "a second address in one entry (one device per line): '02:00.0'"
}

@test "two ids on one line are an error" {
	bad_line "10de:1e84 10de:10f8" "a second id in one entry (one device per line): '10de:10f8'"
}

@test "allow-critical alone is an error" {
	bad_line "allow-critical" "allow-critical needs an address or an id on the same line: 'allow-critical'"
}

@test "a NUL byte is an error shown as \\x00" {
	printf '01:00.0\n01:00.0\0junk\n' >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: NUL byte in line: '01:00.0\\x00junk'"
}

@test "a non-ASCII byte is an error" {
	printf '01:00.0\n01:00.0 \xc3\xa9\n' >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: non-ASCII byte in line: '01:00.0 \\xc3\\xa9'"
}

@test "a line longer than any buffer is an error, not a crash" {
	{ echo 01:00.0; head -c 100000 /dev/zero | tr '\0' a; echo; } >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: line longer than 255 characters: 'aaaa"
}

@test "every bad line is reported, not just the first" {
	printf 'bogus\n01:00.0\n01:00.9\n\n10de:zzzz\n' >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "$CONF:1: unknown word"
	assert_output --partial "$CONF:3: bad PCI function number"
	assert_output --partial "$CONF:5: a vendor:device id has 4 hex digits"
	assert_output --partial "3 errors: at boot gpupass would bind nothing"
}

@test "on the boot path a file with any error binds nothing and logs every error" {
	printf '01:00.0\n02:00.0 typo\n10de:xyz1\n' >"$CONF"
	run gp bind
	assert_success
	[ "$(fx_override_of 0000:01:00.0)" = "(null)" ]
	[ "$(fx_driver_of 0000:01:00.0)" = nouveau ]
	[ ! -e "$BATS_TEST_TMPDIR/modprobe.log" ]
	run cat "$KMSG"
	assert_line --partial "<11>gpupass: $CONF:2: unknown word"
	assert_line --partial "<11>gpupass: $CONF:3: a vendor:device id"
	assert_line "<11>gpupass: 2 errors in the configuration: binding nothing (fix them, run gpupass check, then regenerate the initramfs)"
	run grep -c 'driver_override' "$KMSG"
	assert_output 0
}

@test "a repeated entry warns and binds once" {
	printf '01:00.0\n0000:01:00.0\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "warning: $CONF:2: '0000:01:00.0' repeats $CONF:1"
	assert_output --partial "group 14: would bind 4 functions"
}

@test "a config that is a directory is an error" {
	mkdir -p "$BATS_TEST_TMPDIR/confdir"
	run "$GPUPASS" check --sysfs "$SYS" --config "$BATS_TEST_TMPDIR/confdir" --cmdline "$CMDLINE" --run "$RUN"
	assert_failure 1
	assert_output --partial "error: $BATS_TEST_TMPDIR/confdir: cannot read: Is a directory"
}

@test "a missing config is nothing to do on the boot path" {
	run gp bind
	assert_success
	run cat "$KMSG"
	assert_output "<13>gpupass: no $CONF and no gpupass.add= on the kernel command line: nothing to do"
}

@test "10,000 entries load, and the one present device is planned" {
	{ echo 01:00.0; awk 'BEGIN { for (i = 1; i < 10000; i++) printf "%04x:%04x\n", 4096 + int(i / 1000), i }'; } >"$CONF"
	run gp check
	assert_failure 3
	assert_output --partial "group 14: would bind 4 functions"
	assert_output --partial "9999 targets would not be bound; 1 group would be"
}

@test "a file over 1 MiB is refused" {
	head -c 1100000 /dev/zero | tr '\0' '#' >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "cannot read: larger than 1 MiB"
}

@test "a domain of nine hex digits is an error" {
	bad_line "000000000:01:00.0" "bad PCI domain (1 to 8 hex digits): '000000000:01:00.0'"
}

@test "an id with a three-digit vendor is an error, not vendor 010d" {
	bad_line "10d:1e84" "neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function): '10d:1e84'"
}

@test "an escape character (0x1b) in a line is an error" {
	printf '01:00.0\n01:00.0 \033[2J\n' >"$CONF"
	run gp check
	assert_failure 1
	assert_output --partial "error: $CONF:2: control character in line: '01:00.0 \\x1b[2J'"
}

@test "the highest numbers in range are accepted: device 1f, function 7, bus ff, an eight-digit domain" {
	fx_dev 0000:ff:1f.7 8086:1234 0c0330 40 xhci_hcd
	printf '0000:ff:1f.7\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "$CONF:1: 0000:ff:1f.7 [8086:1234] USB controller (xhci_hcd) is in IOMMU group 40"
	printf 'ffffffff:01:00.0\n' >"$CONF"
	run gp check
	assert_failure 3
	assert_output --partial "no PCI device at ffffffff:01:00.0"
}

@test "a UTF-8 byte-order mark is skipped, with one warning" {
	printf '\xef\xbb\xbf01:00.0 10de:1e84\r\n# two\r\n' >"$CONF"
	run --separate-stderr gp check
	assert_success
	assert_equal "$stderr" "warning: $CONF:1: UTF-8 byte-order mark skipped (an editor added it; it is harmless)"
	assert_line "ok: 1 group would be bound"
}

@test "any bytes in a comment are accepted, even past 255 characters" {
	printf '01:00.0 # caf\xc3\xa9, the top slot %0300d\n# \xff\x01 binary junk\n' 0 >"$CONF"
	run --separate-stderr gp check
	assert_success
	assert_equal "$stderr" ""
	assert_line "ok: 1 group would be bound"
}

@test "a non-ASCII byte outside a comment is still an error" {
	printf '01:00.0\xc2\xa0# no-break space\n' >"$CONF"
	run --separate-stderr gp check
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "error: $CONF:1: non-ASCII byte in line: '01:00.0\\xc2\\xa0'"
}

@test "a missing config is a warning for check: the next boot binds nothing" {
	rm -f "$CONF"
	run --separate-stderr gp check
	assert_success
	assert_equal "$stderr" "warning: $CONF: no such file: the next boot binds nothing"
	assert_output "no entries: nothing to bind"
	echo "gpupass.add=01:00.0" >"$CMDLINE"
	run --separate-stderr gp check
	assert_success
	assert_equal "$stderr" "warning: $CONF: no such file: the next boot binds only the gpupass.add= entries"
}

@test "vendor ffff is refused: it is what a missing device reads as" {
	bad_line "ffff:1e84" "ffff is no vendor: 'ffff:1e84'"
}

@test "allow-critical on a repeated entry reaches the entry it repeats" {
	fx_dev 0000:01:00.4 144d:a808 010802 14 nvme
	printf '01:00.0\n0000:01:00.0 allow-critical\n' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "warning: $CONF:2: '0000:01:00.0 allow-critical' repeats $CONF:1"
	assert_output --partial "group 14: would bind 5 functions"
}

@test "a last line without a newline is read" {
	printf '# no newline at the end\n01:00.0' >"$CONF"
	run gp check
	assert_success
	assert_output --partial "$CONF:2: 0000:01:00.0 [10de:1e84] VGA compatible controller (nouveau) is in IOMMU group 14"
	assert_output --partial "ok: 1 group would be bound"
}
