# SPDX-License-Identifier: MIT
# make bench: gpupass against the ways people bind GPUs today (bench/run; as root it
# installs what it needs): sysfs trees, then real QEMU boots against vfio-pci.ids=
# (BENCH_BOOT=0 skips those). Prints one markdown table; BENCHMARKS.md keeps the latest.
bench: gpupass
	bench/run

.PHONY: bench
