#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The runner's count (tests/lib/tap.bash): suites that lie about what they
# ran must not be counted as passing.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p build
	# shellcheck source=../lib/tap.bash
	. "$BATS_TEST_DIRNAME/../lib/tap.bash"
}

# count NAME SCRIPT: run_suite over a suite that is this bash script.
count() {
	run_suite "$1" bash -c "$2" >"$BATS_TEST_TMPDIR/out" 2>&1
	echo "$passed $failed $skipped"
}

@test "a suite that passes everything it planned counts its passes" {
	run count good 'echo 1..2; echo "ok 1 a"; echo "ok 2 b"'
	assert_output "2 0 0"
}

@test "a skip is counted as a skip, never as a pass, and shown" {
	run count skip 'echo 1..2; echo "ok 1 a"; echo "ok 2 b # skip needs root"'
	assert_output "1 0 1"
	run_suite skip bash -c 'echo 1..1; echo "ok 1 b # SKIP needs root"'
	assert_equal "$skipped" 1
	grep -qx 'ok 1 b # SKIP needs root' build/skip.tap
}

@test "a suite that dies after its first test counts the rest of its plan as failed" {
	run count died 'echo 1..3; echo "ok 1 a"; exit 1'
	assert_output "1 2 0"
	run grep -x "died: 1 of 3 planned tests reported, the 2 missing counted as failures" out
	assert_success
}

@test "a suite that exits non-zero without a failing test counts one failure" {
	run count rc 'echo 1..1; echo "ok 1 a"; exit 3'
	assert_output "1 1 0"
	run grep -x "rc: exited 3 without a failing test, counted as a failure" out
	assert_success
}

@test "a suite without a plan counts one failure" {
	run count noplan 'echo "ok 1 a"'
	assert_output "1 1 0"
}

@test "more results than the plan counts one failure" {
	run count extra 'echo 1..1; echo "ok 1 a"; echo "ok 2 b"'
	assert_output "2 1 0"
}

@test "failures are counted as reported, and the summary line says all three" {
	run_suite mixed bash -c 'echo 1..3; echo "ok 1 a"; echo "not ok 2 b"; echo "ok 3 c # skip x"; exit 1' >/dev/null
	assert_equal "$passed $failed $skipped" "1 1 1"
	assert_equal "${summary[0]}" "mixed: 1 passed, 1 failed, 1 skipped"
}
