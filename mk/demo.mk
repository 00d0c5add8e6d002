# SPDX-License-Identifier: MIT
# make demo: the first command a newcomer runs (see README).
demo: gpupass
	tests/boot/demo.sh

.PHONY: demo
