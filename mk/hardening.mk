# Hardening: libFuzzer harnesses (tests/fuzz) and the analysers (tests/analysis).
#   make fuzz                 every fuzzer for FUZZ_SECONDS each (make -j2 fuzz: two at a time)
#   make fuzz-config          one of them
#   make fuzzers              build them only
# The short runs in `make check` come from tests/fuzz/suite.
FUZZ_SECONDS ?= 600
FUZZERS      = entry config cmdline sysfs
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
