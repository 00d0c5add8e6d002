# SPDX-License-Identifier: MIT
# Hardening: libFuzzer harnesses (tests/fuzz) and the analysers (tests/analysis).
#   make fuzz                 every fuzzer for FUZZ_SECONDS each (make -j2 fuzz: two at a time)
#   make fuzz-config          one of them
#   make fuzzers              build them only
# The short runs in `make check` come from tests/fuzz/suite.
FUZZ_SECONDS ?= 600
FUZZERS      = entry config cmdline sysfs status manifest
FUZZ_CC     ?= clang
FUZZ_FLAGS   = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=all $(WARN) -D_GNU_SOURCE -Iearly
# The harnesses call the library; main() is libFuzzer's.
FUZZ_SRCS    = $(filter-out early/main.c,$(SRCS))

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) $(HDRS)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS)

fuzzers: $(FUZZERS:%=build/fuzz/fuzz_%)

$(FUZZERS:%=fuzz-%): fuzz-%: build/fuzz/fuzz_%
	@tests/fuzz/run $* $(FUZZ_SECONDS)

fuzz: $(FUZZERS:%=fuzz-%)

.PHONY: fuzz fuzzers $(FUZZERS:%=fuzz-%)

# Hardening flags klibc allows: stack clash probes and a non-executable stack
# cost the static binary nothing. klibc has no __stack_chk_fail (so no
# -fstack-protector) and no fortified functions (so no _FORTIFY_SOURCE).
KCFLAGS     += -fstack-clash-protection
KLDFLAGS    += -Wl,-z,noexecstack

# The glibc builds tests/analysis/suite makes: the usual distribution
# hardening with -Werror, clang's warnings on top of gcc's, and a plain
# -O1 -g binary for Valgrind (ASan and Valgrind do not mix).
HARDEN_GLIBC = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	       -fcf-protection -fPIE -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
ANALYSIS_DEF = -DGPUPASS_VERSION='"$(VERSION)"'

build/analysis/gpupass-gcc-hardened: $(SRCS) $(HDRS)
	@mkdir -p build/analysis
	gcc $(HARDEN_GLIBC) $(GWARN) $(ANALYSIS_DEF) -o $@ $(SRCS)

build/analysis/gpupass-clang-hardened: $(SRCS) $(HDRS)
	@mkdir -p build/analysis
	clang $(HARDEN_GLIBC) $(GWARN) $(ANALYSIS_DEF) -o $@ $(SRCS)

build/analysis/gpupass-valgrind: $(SRCS) $(HDRS)
	@mkdir -p build/analysis
	$(CC) -O1 -g $(GWARN) $(ANALYSIS_DEF) -o $@ $(SRCS)

# The shipped klcc build, into build/analysis so the check leaves ./gpupass alone.
build/analysis/gpupass-klcc: $(SRCS) $(HDRS)
	@mkdir -p build/analysis
	$(KLCC) $(KCFLAGS) $(KLDFLAGS) -s -o $@ $(SRCS)
