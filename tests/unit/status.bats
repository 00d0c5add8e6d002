#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Reading the status record back (gpupass status, gpupass check): a line is
# believed only in the exact shape gpupass writes it; any other line is
# reported at RUN/status:LINE and left out, and status then exits 3.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_card 02 15
	echo "02:00.0" >"$CONF"
	gp bind
	# Not a vfio group node: viability is "unknown", so a good record exits 0.
	mkdir -p "$BATS_TEST_TMPDIR/dev/vfio"
	: >"$BATS_TEST_TMPDIR/dev/vfio/15"
}

# record_line N TEXT: line N of the record becomes TEXT.
record_line() {
	local n=$1 text=$2
	awk -v n="$n" -v t="$text" 'NR == n { print t; next } { print }' "$RUN/status" >"$RUN/status.new"
	mv "$RUN/status.new" "$RUN/status"
}

@test "a record that is fine: status reports every group and function, no error, exit 0" {
	run cat "$RUN/status"
	assert_line --index 3 "group 15 bound 4 4"
	run gp status
	assert_success
	assert_equal "${#lines[@]}" 6
	assert_line --index 0 "mode at boot: bind"
	assert_line --index 1 --partial "group 15: bound at boot; now 4/4 functions on vfio-pci; viable: unknown (VFIO_GROUP_GET_STATUS on $BATS_TEST_TMPDIR/dev/vfio/15: "
	assert_line --index 2 "  0000:02:00.0 [10de:1e84] vfio-pci"
	assert_line --index 3 "  0000:02:00.1 [10de:10f8] vfio-pci"
	assert_line --index 4 "  0000:02:00.2 [10de:1ad8] vfio-pci"
	assert_line --index 5 "  0000:02:00.3 [10de:1ad9] vfio-pci"
	run gp status --json
	assert_success
	assert_output --partial '"groups":[{"group":15,"state":"bound","on_vfio":4,"functions":4,'
	assert_output --partial '],"record_errors":0,"exit":0}'
}

@test "a group number that overflows is reported, and its group is not taken for another" {
	# 2^64 + 15: a conversion that wraps instead of failing reads group 15.
	record_line 4 "group 18446744073709551631 bound 4 4"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:4: bad group number (0 to 2147483647): 'group 18446744073709551631 bound 4 4'"
	refute_line --partial "group 15:"
	refute_line --partial "0000:02:00.0"
	assert_line "no groups were planned at boot"
	assert_line "error: $RUN/status is damaged (1 error above): this report may be incomplete; dmesg has what the boot did"
}

@test "a function count that overflows an int is reported, not wrapped to 4" {
	# 2^32 + 4 reads as 4 through a 32-bit conversion, matching the 4 function lines.
	record_line 4 "group 15 bound 4 4294967300"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:4: bad function counts (BOUND TOTAL, 0 <= BOUND <= TOTAL <= 2147483647): 'group 15 bound 4 4294967300'"
	refute_line --partial "group 15:"
}

@test "a truncated group line is reported and its functions are left out with it" {
	record_line 4 "group 15 bound 4"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:4: truncated line (group ID STATE BOUND TOTAL): 'group 15 bound 4'"
	refute_line --partial "group 15:"
	refute_line --partial "0000:02:00."
	assert_line --partial "is damaged (1 error above)"
}

@test "a record cut in the middle of a line: the cut line is reported, not believed" {
	# The last function line loses its newline and two digits: "10de:1a".
	truncate -s -3 "$RUN/status"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:8: truncated line (no newline at its end): 'function 15 0000:02:00.3 10de:1a'"
	assert_line --partial "group 15: bound at boot; now 3/4 functions on vfio-pci; viable: unknown"
	refute_line --partial "  0000:02:00.3"
	assert_line --partial "is damaged (1 error above)"
}

@test "a record cut at a line end: the group counts more functions than it lists" {
	sed -i '$d' "$RUN/status"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:4: fewer function lines than the group line counts: 'group 15 bound 4 4'"
	assert_line --partial "group 15: bound at boot; now 3/4 functions on vfio-pci"
}

@test "a record cut before its config line says which line is missing" {
	sed -i '3,$d' "$RUN/status"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status: truncated record: no config line"
	assert_line "mode at boot: bind"
}

@test "a line with an unknown keyword is reported; the good lines around it still count" {
	record_line 6 "frobnicate 0000:02:00.1 10de:10f8"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:6: unknown keyword (version, mode, config, group, function): 'frobnicate 0000:02:00.1 10de:10f8'"
	assert_line --partial "group 15: bound at boot; now 3/4 functions on vfio-pci"
	assert_line "  0000:02:00.2 [10de:1ad8] vfio-pci"
	refute_line --partial "  0000:02:00.1"
}

@test "bytes that are not text are shown escaped" {
	printf 'group 16 bound 1 1\033[2J\n' >>"$RUN/status"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:9: control character in line: 'group 16 bound 1 1\\x1b[2J'"
}

@test "--json keeps stdout one JSON object and reports bad lines on stderr" {
	record_line 4 "group 18446744073709551631 bound 4 4"
	run --separate-stderr gp status --json
	assert_failure 3
	assert_output '{"ran":true,"mode":"bind","config_changed":false,"groups":[],"record_errors":1,"exit":3}'
	assert_equal "$stderr" "$(printf '%s\n' \
		"error: $RUN/status:4: bad group number (0 to 2147483647): 'group 18446744073709551631 bound 4 4'" \
		"error: $RUN/status is damaged (1 error above): this report may be incomplete; dmesg has what the boot did")"
}

@test "a damaged record: the same error lines on stderr with or without --json, the report on stdout" {
	record_line 6 "frobnicate"
	run --separate-stderr gp status
	assert_failure 3
	text_err=$stderr
	assert_line --index 0 "mode at boot: bind"
	refute_output --partial "error:"
	run --separate-stderr gp status --json
	assert_failure 3
	assert_equal "$stderr" "$text_err"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "check reports a bad config line of the record and does not guess whether the config changed" {
	record_line 3 "config $CONF e5ebeb193a23bb89ffffffff"
	echo "# edited after the boot" >>"$CONF"
	run gp check
	assert_success
	assert_line "error: $RUN/status:3: bad config hash (16 lowercase hex digits, or none): 'config $CONF e5ebeb193a23bb89ffffffff'"
	refute_output --partial "differs from the one this boot used"
}

@test "a function address with a device number above 1f is reported" {
	record_line 5 "function 15 0000:02:2f.0 10de:1e84"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:5: bad PCI address (DOMAIN:BB:DD.F in lowercase hex): 'function 15 0000:02:2f.0 10de:1e84'"
}

@test "--json escapes quotes and backslashes in a driver's name" {
	fx_bind 0000:02:00.1 'we"ird\drv'
	run gp status --json
	assert_failure 3
	assert_output --partial '{"address":"0000:02:00.1","id":"10de:10f8","driver":"we\"ird\\drv"}'
	command -v jq >/dev/null || fx_needs jq "to parse the JSON"
	run jq -r '.groups[0].functions_list[1].driver' <<<"$output"
	assert_output 'we"ird\drv'
}

# vfio lets one file at a time hold a group open, so while a VM runs, opening /dev/vfio/N
# fails with EBUSY. A tty in exclusive mode (TIOCEXCL) answers an open by anyone without
# CAP_SYS_ADMIN the same way: it stands in for the group node, and status runs as nobody.
status_while_in_use() {
	chmod -R a+rwX "$SYS" "$RUN"
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
	python3 - "$BATS_TEST_TMPDIR/dev/vfio/15" "$GPUPASS" status "$@" --sysfs "$SYS" \
		--config "$CONF" --cmdline "$CMDLINE" --run "$RUN" --dev "$BATS_TEST_TMPDIR/dev" <<-'PY'
	import fcntl, os, subprocess, sys, termios
	master, slave = os.openpty()
	fcntl.ioctl(slave, termios.TIOCEXCL)
	os.chmod(os.ttyname(slave), 0o666)
	os.remove(sys.argv[1])
	os.symlink(os.ttyname(slave), sys.argv[1])
	sys.exit(subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				 "--inh-caps=-all"] + sys.argv[2:]).returncode)
	PY
}

@test "a group a VM holds open is in use, which proves it viable: exit 0" {
	[ "$(id -u)" = 0 ] || fx_needs root "to become nobody"
	command -v python3 >/dev/null || fx_needs python3 "to hold a tty in exclusive mode"
	run status_while_in_use
	assert_success
	assert_line --index 0 "mode at boot: bind"
	assert_line --index 1 "group 15: bound at boot; now 4/4 functions on vfio-pci; viable: yes (in use by a VM)"
	run status_while_in_use --json
	assert_success
	assert_output --partial '"on_vfio":4,"functions":4,"viable":true,"in_use":true,'
	assert_output --partial '"exit":0}'
}

@test "a function line that names another group than the one above it is reported" {
	record_line 5 "function 16 0000:02:00.0 10de:1e84"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:5: function line outside its group's lines: 'function 16 0000:02:00.0 10de:1e84'"
}

@test "a boot without a config file records none as its hash" {
	rm "$CONF"
	run gp bind
	assert_success
	run grep -x "config $CONF none" "$RUN/status"
	assert_success
}

@test "a record of a later version is reported and not read" {
	record_line 1 "version 2"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:1: unknown record version (this gpupass reads version 1): the rest is left out: 'version 2'"
	refute_line --partial "group 15:"
}

@test "more functions bound than the group has is reported" {
	record_line 4 "group 15 partial 5 4"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:4: bad function counts (BOUND TOTAL, 0 <= BOUND <= TOTAL <= 2147483647): 'group 15 partial 5 4'"
}

@test "a group that appears twice in the record is reported" {
	echo "group 15 bound 0 0" >>"$RUN/status"
	run gp status
	assert_failure 3
	assert_line --index 0 "error: $RUN/status:9: group repeated: 'group 15 bound 0 0'"
}

@test "a group refused at boot before any of its functions was planned exits 3" {
	head -n 3 "$RUN/status" >"$RUN/status.new"
	echo "group 9 refused 0 0" >>"$RUN/status.new"
	mv "$RUN/status.new" "$RUN/status"
	run gp status
	assert_failure 3
	assert_line "group 9: refused at boot; now 0/0 functions on vfio-pci; viable: unknown"
}
