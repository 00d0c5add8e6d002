# SPDX-License-Identifier: MIT
# Throwaway Debian roots for the suites that test from a bare system
# (tests/package, tests/fresh): debootstrap --variant=minbase, cached per
# suite and package list in $GPUPASS_CACHE/debootstrap.

# The mirror of this machine's own Debian release, from its apt sources.
mirror() {
	. /etc/os-release
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' |
		awk -v s="$VERSION_CODENAME" '$2 == s && $3 == "main" { print $1; exit }'
}

# fresh_root SUITE INCLUDE ROOT: a fresh root for every run. The first run
# downloads the packages once (--make-tarball) and installs them
# (--unpack-tarball, minutes on two cores); the pristine result is kept as a
# plain tar next to that tarball, which later runs unpack in seconds.
fresh_root() {
	local suite=$1 include=$2 root=$3 cache=$GPUPASS_CACHE/debootstrap base url
	base=$cache/$suite-minbase-${include//,/-}
	rm -rf "$root"
	mkdir -p "$cache" "$root"
	if [ -s "$base.root.tar" ]; then
		echo "root from $base.root.tar"
		tar -C "$root" -xpf "$base.root.tar"
		return
	fi
	url=$(mirror)
	[ -n "$url" ] || { echo "no apt source for this machine's release"; return 1; }
	if [ ! -s "$base.tgz" ]; then
		rm -rf "$root.tarball-tmp"
		debootstrap --variant=minbase --include="$include" --make-tarball="$base.tgz.new" \
			"$suite" "$root.tarball-tmp" "$url" && mv "$base.tgz.new" "$base.tgz" || return 1
		rm -rf "$root.tarball-tmp"
	fi
	# debootstrap mounts /proc in the root: keep that inside a namespace of its own.
	unshare -m --propagation private debootstrap --variant=minbase --include="$include" \
		--unpack-tarball="$base.tgz" "$suite" "$root" "$url" || return 1
	tar -C "$root" -cpf "$base.root.tar.new" . && mv "$base.root.tar.new" "$base.root.tar"
}
