# SPDX-License-Identifier: MIT
# The runner's count (tests/run-all): each suite's TAP read into passed,
# failed and skipped, so that nothing that did not run is counted as a pass.
# tests/unit/runner.bats checks it with suites that lie.
# Logs go to build/NAME.tap (relative to the current directory).

passed=0 failed=0 skipped=0
summary=()

# run_suite NAME COMMAND...: runs a TAP producer and counts what it did.
# Only an "ok" that is not a skip is a pass. A suite fails as a whole (one
# failure more) when it prints no plan or exits non-zero without a "not ok";
# tests its plan announces but that never reported count as failures.
run_suite() {
	local name=$1 log=build/$1.tap p f s plan ran rc
	shift
	echo "== $name"
	# The producer's own exit status, whatever grep finds (and under set -e too).
	{ "$@" 2>&1 | tee "$log" | grep -E '^(not ok|# )|^ok .* # [Ss][Kk][Ii][Pp]'; rc=${PIPESTATUS[0]}; } || :
	s=$(grep -cE '^ok .* # [Ss][Kk][Ii][Pp]' "$log") || :
	p=$(($(grep -c '^ok ' "$log") - s)) || :
	f=$(grep -c '^not ok ' "$log") || :
	ran=$((p + s + f))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	if [ -z "$plan" ]; then
		f=$((f + 1)); echo "$name: no TAP plan, counted as a failure"
	elif [ "$ran" -lt "$plan" ]; then
		f=$((f + plan - ran)); echo "$name: $ran of $plan planned tests reported, the $((plan - ran)) missing counted as failures"
	elif [ "$ran" -gt "$plan" ]; then
		f=$((f + 1)); echo "$name: $ran tests reported for a plan of $plan, counted as a failure"
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; echo "$name: exited $rc without a failing test, counted as a failure"
	fi
	echo "$name: $p passed, $f failed, $s skipped"
	summary+=("$name: $p passed, $f failed, $s skipped")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# missing_suite NAME WHY: a suite that should run and cannot is a failure, never silence.
missing_suite() {
	echo "== $1"; echo "$1: $2, counted as a failure"
	summary+=("$1: 0 passed, 1 failed, 0 skipped ($2)")
	failed=$((failed + 1))
}
