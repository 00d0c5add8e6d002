#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The bash completion: commands, each command's options, and list -s / -d
# values from the sysfs tree.
load '../lib/fixture'

setup() {
	fx_init
	fx_card 02 15
	# shellcheck source=contrib/bash-completion/gpupass
	source "$BATS_TEST_DIRNAME/../../contrib/bash-completion/gpupass"
}

# complete WORD...: what TAB offers after these words (the last is being typed).
complete_words() {
	COMP_WORDS=(gpupass "$@")
	COMP_CWORD=$(($# ))
	COMPREPLY=()
	_gpupass
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "the first word completes to a command" {
	run complete_words ""
	assert_output "$(printf '%s\n' bind check list status release claim manifest help version)"
	run complete_words st
	assert_output "status"
}

@test "each command offers its own options only" {
	run complete_words status --j
	assert_output "--json"
	run complete_words check --j
	assert_output ""
	run complete_words bind --d
	assert_output "$(printf '%s\n' --dev --dry-run)"
	run complete_words list -
	assert_line -- "-s"
	assert_line -- "-d"
	refute_line -- "--json"
}

@test "list -s and -d complete addresses and ids from the --sysfs tree" {
	run complete_words list --sysfs "$SYS" -s 0000:02:00.
	assert_output "$(printf '%s\n' 0000:02:00.0 0000:02:00.1 0000:02:00.2 0000:02:00.3)"
	run complete_words list --sysfs "$SYS" -d 10de:1e
	assert_output "10de:1e84"
}

@test "make install puts it where bash-completion looks" {
	run grep -E '^contrib/bash-completion/gpupass +share/bash-completion/completions/gpupass +0644$' \
		"$BATS_TEST_DIRNAME/../../hook/install.list"
	assert_success
}

@test "release and claim complete addresses from sysfs, and their own options" {
	run complete_words release --sysfs "$SYS" 0000:02:00.
	assert_output "$(printf '%s\n' 0000:02:00.0 0000:02:00.1 0000:02:00.2 0000:02:00.3)"
	run complete_words claim --a
	assert_output "--all"
	run complete_words status --a
	assert_output ""
}

@test "manifest completes its own options and the generators" {
	run complete_words manifest --g
	assert_output "--generator"
	run complete_words manifest --generator d
	assert_output "dracut"
	run complete_words check --g
	assert_output ""
}
