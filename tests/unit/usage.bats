#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The command line of gpupass itself: every mistake is named on stderr with
# exit 2, options that do not apply are refused, help and version commands.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_card 02 15
	echo "02:00.0" >"$CONF"
}

# usage_error MESSAGE COMMAND...: exit 2, nothing on stdout, MESSAGE alone on stderr.
usage_error() {
	local want=$1
	shift
	run --separate-stderr "$GPUPASS" "$@"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "gpupass: $want (see gpupass --help)"
}

@test "an unknown long option is named" {
	usage_error "unknown option '--bogus'" list --bogus
	usage_error "unknown option '--bogus'" list --bogus=1
}

@test "an unknown short option is named" {
	usage_error "unknown option '-q'" check -q
	usage_error "unknown option '-hV'" check -hV
}

@test "an option without its value says what it needs" {
	usage_error "--sysfs needs a directory" list --sysfs
	usage_error "--sysfs needs a directory" list --sysfs --json
	usage_error "--config needs a file" check --config=
	usage_error "-s needs an address ([domain:]bus:device.function, as lspci -s)" list -s
}

@test "an option that takes no value says so" {
	usage_error "--json takes no value" status --json=yes
}

@test "options that do not apply to the command are refused" {
	usage_error "--json is only for status" check --json
	usage_error "--json is only for status" list --json
	usage_error "--dry-run is only for bind, release and claim" list --dry-run
	usage_error "--dry-run is only for bind, release and claim" check --dry-run
	usage_error "-s is only for list" check -s 02:00.0
	usage_error "-d is only for list" status -d 10de:1e84
}

@test "an argument after the options is refused" {
	usage_error "unexpected argument 'extra'" check extra
	usage_error "unexpected argument 'extra'" check -- extra
}

@test "-s and -d take lspci's notation through the config's parser, and name a bad value" {
	run --separate-stderr "$GPUPASS" list -s 02:20.0
	assert_failure 2
	assert_equal "$stderr" "gpupass: -s: bad PCI device number (00 to 1f): '02:20.0'"
	run --separate-stderr "$GPUPASS" list -d 10de:1e8
	assert_failure 2
	assert_equal "$stderr" "gpupass: -d: neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function): '10de:1e8'"
	usage_error "-s needs an address ([domain:]bus:device.function, as lspci -s)" list -s 10de:1e84
	usage_error "-d needs a vendor:device id (as lspci -d)" list -d 02:00.0
}

@test "help and version are commands too, as are --help and --version" {
	run --separate-stderr "$GPUPASS" help
	assert_success
	assert_line --index 0 "usage: gpupass COMMAND [OPTIONS]"
	assert_line --regexp '^  help +this text$'
	assert_line --regexp '^  version +the version$'
	assert_equal "$stderr" ""
	help=$output
	run "$GPUPASS" --help
	assert_success
	assert_output "$help"
	run "$GPUPASS" list --help
	assert_success
	assert_output "$help"
	run --separate-stderr "$GPUPASS" version
	assert_success
	assert_output "gpupass 0.1.0"
	run "$GPUPASS" --version
	assert_success
	assert_output "gpupass 0.1.0"
}

@test "--help says which command each option is for" {
	run "$GPUPASS" help
	assert_success
	assert_line --regexp '^  --dry-run +bind, release and claim: say what would be done, change nothing$'
	assert_line --regexp '^  --json +status: print JSON$'
	assert_line --regexp '^  -s ADDR +list: only the groups holding the function at ADDR$'
	assert_line --regexp '^  -d VENDOR:DEVICE +list: only the groups holding a function with this id$'
	assert_line --regexp '^  --sysfs DIR +sysfs root \(default /sys\)$'
}

@test "--help, the man page and the README name the same commands and options" {
	local top=$BATS_TEST_DIRNAME/../.. man=$BATS_TEST_DIRNAME/../../man/gpupass.8 word
	run "$GPUPASS" help
	assert_success
	for word in $(grep -oE '^  [a-z]+ ' <<<"$output"); do
		grep -qE "^\.It Cm $word( |\$)" "$man" || fail "gpupass.8 does not describe the command $word"
		grep -qF -- "gpupass $word" "$top/README.md" || fail "README.md does not mention gpupass $word"
	done
	for word in $(grep -oE -- '(^  |, )--?[a-zA-Z-]+' <<<"$output" | sed 's/^, //; s/^  //'); do
		grep -qF -- "\`$word" "$top/README.md" || fail "README.md does not mention $word"
		case $word in
		--*) grep -qF -- "\\-$(sed 's/-/\\-/g' <<<"${word#--}")" "$man" ;;
		*) grep -qE -- "Fl ${word#-}( |\$)" "$man" ;;
		esac || fail "gpupass.8 does not mention $word"
	done
	# And the other way round: every option the man page describes is in --help.
	for word in $(grep -oE '^\.It Fl [a-zA-Z\\-]+' "$man" | sed 's/^\.It Fl //; s/\\//g'); do
		word=-$word
		assert_output --partial -- "$word"
	done
}

@test "a --pci-ids naming a missing file is an error for list" {
	rm "$BATS_TEST_TMPDIR/pci.ids"
	run --separate-stderr gp list
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" "gpupass: --pci-ids $BATS_TEST_TMPDIR/pci.ids: no such file"
}
