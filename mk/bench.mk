# make bench: gpupass against the ways people bind GPUs today (bench/run; as root it
# installs what it needs). Prints one markdown table; BENCHMARKS.md keeps the latest.
bench: gpupass
	bench/run

.PHONY: bench
