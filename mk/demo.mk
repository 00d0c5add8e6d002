# SPDX-License-Identifier: MIT
# make demo: the first command a newcomer runs (see README). No dependency on
# the binary: on a bare machine the demo installs the compiler and klibc first,
# then builds it (tests/fresh/suite proves that).
demo:
	tests/boot/demo.sh

.PHONY: demo
