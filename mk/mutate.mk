# SPDX-License-Identifier: MIT
# make mutate: the kill rate of the unit suite against the small regressions
# listed in tests/mutate/mutations (a few minutes; not part of make check).
#   make mutate MUTATE_TARGET=90    fails below that percentage killed
mutate:
	tests/mutate/run

.PHONY: mutate
