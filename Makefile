# SPDX-License-Identifier: MIT
# gpupass: `make` builds the static klibc binary; `make check` runs every test.
VERSION   = 0.1.0
PREFIX   ?= /usr
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin

KLCC     ?= klcc
CC       ?= cc
WARN      = -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -Os
KCFLAGS   = $(CFLAGS) $(WARN) -DGPUPASS_VERSION='"$(VERSION)"'
GWARN     = $(WARN) -Wshadow  # klibc's stdlib.h trips -Wshadow itself
SANFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

SRCS = $(wildcard early/*.c)
HDRS = $(wildcard early/*.h)

all: gpupass

# klcc links statically against klibc; -s strips the debug info it adds.
# noseparate-code: no page-aligned padding between code and read-only data
# (6 KiB of a 48 KiB file), which matters in an initramfs.
KLDFLAGS  = -Wl,-z,noseparate-code
gpupass: $(SRCS) $(HDRS) Makefile
	$(KLCC) $(KCFLAGS) $(KLDFLAGS) -s -o $@ $(SRCS)

# The same sources against glibc, with AddressSanitizer and UBSan, for the tests.
build/gpupass-asan: $(SRCS) $(HDRS) Makefile
	@mkdir -p build
	$(CC) $(SANFLAGS) $(GWARN) -DGPUPASS_VERSION='"$(VERSION)"' -o $@ $(SRCS)

# The binary, then every line of hook/install.list (SRC DEST MODE; DEST below
# $(PREFIX) unless absolute). An existing /etc/gpupass.conf is never replaced.
install: gpupass
	install -D -m 0755 gpupass $(DESTDIR)$(SBINDIR)/gpupass
	@grep -v '^#' hook/install.list | while read -r src dest mode; do \
		[ -n "$$src" ] || continue; \
		case $$dest in /*) to=$(DESTDIR)$$dest ;; *) to=$(DESTDIR)$(PREFIX)/$$dest ;; esac; \
		if [ "$${dest#/etc/}" != "$$dest" ] && [ -e "$$to" ]; then echo "keeping $$to"; continue; fi; \
		echo "install $$src $$to"; install -D -m "$$mode" "$$src" "$$to" || exit 1; \
	done

# Installs the Debian packages the tests need (as root), builds, runs every
# suite and ends with one line "N passed, N failed".
check:
	tests/run-all

# The unit tests alone, against fixture sysfs trees: seconds, no root, no VMs.
check-unit:
	tests/run-all unit

clean:
	rm -rf gpupass build

.PHONY: all install check check-unit clean

# Further targets (fuzz, bench, packaging, demo) each live in a fragment of their own.
include $(wildcard mk/*.mk)
