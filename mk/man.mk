# SPDX-License-Identifier: MIT
# Manual pages and the source tarball.
#   make install-man    man/gpupass.8 and man/gpupass.conf.5 under $(DESTDIR)$(PREFIX)/share/man
#   make lint-man       mandoc -T lint, clean but for pages not installed on this machine
#   make dist           build/gpupass-$(VERSION).tar.gz from the committed tree (git archive HEAD)
MANDIR   ?= $(PREFIX)/share/man
MANPAGES  = man/gpupass.8 man/gpupass.conf.5

install-man: $(MANPAGES)
	install -D -m 0644 man/gpupass.8 $(DESTDIR)$(MANDIR)/man8/gpupass.8
	install -D -m 0644 man/gpupass.conf.5 $(DESTDIR)$(MANDIR)/man5/gpupass.conf.5

# -T lint reports style too; cross references to pages that are not installed here
# (gpupass.conf(5) before the package is, update-initramfs(8) on a dracut host) are
# the only messages let through, along with mandoc's note about its own database.
lint-man: $(MANPAGES)
	@out=$$(mandoc -T lint $(MANPAGES) 2>&1 | \
		grep -v -e 'referenced manual not found' -e 'mandoc\.db'); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi
	@for m in $(MANPAGES); do groff -ww -z -mdoc $$m || exit 1; done
	@echo "lint-man: $(MANPAGES) clean"

dist:
	@mkdir -p build
	git archive --format=tar.gz --prefix=gpupass-$(VERSION)/ -o build/gpupass-$(VERSION).tar.gz HEAD
	@echo "build/gpupass-$(VERSION).tar.gz"

.PHONY: install-man lint-man dist
