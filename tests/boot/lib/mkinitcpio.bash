# SPDX-License-Identifier: MIT
# mkinitcpio (Arch Linux's generator) for the boot tests: find or set up mkinitcpio, build images
# of Debian's kernels with the package's hook, in either flavour of /init. Needs boot.bash.
#
# Which mkinitcpio: an installed one (an Arch machine: used as it is), else the source tree in
# MKINITCPIO_SRC, else the vendored v41 tarball in GPUPASS_VENDOR (default: ../shared/vendor
# beside this checkout, or beside the checkout it was cloned from). None: the suite fails.

MK_BUILD=$BOOT_BUILD/mkinitcpio

# mk_vendor_dir: the directory holding mkinitcpio-41.tar.gz, or nothing.
mk_vendor_dir() {
	local d origin common
	origin=$(git -C "$REPO" remote get-url origin 2>/dev/null)
	common=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
	for d in ${GPUPASS_VENDOR:-} "$REPO/../shared/vendor" "${common%/.git}/../shared/vendor" \
		"${origin#file://}/../shared/vendor"; do
		if [ -f "$d/mkinitcpio-41.tar.gz" ]; then
			(cd "$d" && pwd)
			return 0
		fi
	done
	return 1
}

# mk_setup: sets MKINITCPIO (the command) and MK_LIBDIR (its hook library).
mk_setup() {
	local src vendor
	if command -v mkinitcpio >/dev/null; then
		MKINITCPIO=$(command -v mkinitcpio) MK_LIBDIR=/usr/lib/initcpio
		return 0
	fi
	src=${MKINITCPIO_SRC:-}
	if [ -z "$src" ]; then
		if ! vendor=$(mk_vendor_dir); then
			echo "no mkinitcpio: none installed, MKINITCPIO_SRC unset, and no mkinitcpio-41.tar.gz" \
				"in GPUPASS_VENDOR or ../shared/vendor" >&2
			return 1
		fi
		src=$MK_BUILD/src
		rm -rf "$src"
		mkdir -p "$src"
		tar -xzf "$vendor/mkinitcpio-41.tar.gz" -C "$src" --strip-components=1 || return 1
	fi
	[ -f "$src/mkinitcpio" ] && [ -f "$src/install/base" ] ||
		{ echo "no mkinitcpio source tree in $src" >&2; return 1; }
	mk_install_debian "$src" "$MK_BUILD/prefix" || return 1
	MKINITCPIO=$MK_BUILD/prefix/usr/bin/mkinitcpio MK_LIBDIR=$MK_BUILD/prefix/usr/lib/initcpio
}

# mk_install_debian SRC PREFIX: mkinitcpio from SRC, made to run on Debian 12 in PREFIX. Every
# adaptation is here, none in gpupass's own hooks:
#  1. installed by hand, not with its meson build (meson >= 1.4 wanted, Debian 12 has 1.0.1; the
#     version comes from git describe): the @...@ placeholders replaced as meson.build does, and
#     the literal /usr/lib/initcpio/ paths of the stock hooks pointed at PREFIX;
#  2. its PATH (@BINDIR@:/bin) misses Debian's /usr/sbin (blkid, switch_root, sulogin...);
#  3. busybox: Debian's dynamic busybox package (mkinitcpio copies its libc itself); the
#     busybox-static that the other boot tests use runs its own modprobe applet before PATH,
#     which needs modules.dep, which mkinitcpio does not ship: MODULES=() would not load;
#  4. install/udev names /usr/lib/libkmod.so.2: Debian keeps it in the multiarch directory;
#     it and install/systemd add /etc/udev/hwdb.bin, which Debian does not have;
#  5. install/systemd names /usr/bin/sulogin, swapon and swapoff (Debian: /usr/sbin), looks for
#     dlopen()ed libraries only in /usr/lib (add the multiarch directory), and lists files that
#     systemd 252 does not have: those lines are dropped, else mkinitcpio exits 1.
mk_install_debian() {
	local src=$1 p=$2 lib multiarch f
	lib=$p/usr/lib/initcpio
	multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
	rm -rf "$p"
	mkdir -p "$p/usr/bin" "$lib" "$p/etc/initcpio/hooks" "$p/etc/initcpio/install" "$p/etc/mkinitcpio.d"
	cp -a "$src/hooks" "$src/install" "$src/udev" "$lib/"
	cp "$src/functions" "$src/init" "$src/init_functions" "$src/shutdown" "$lib/"
	cp "$src/mkinitcpio" "$src/lsinitcpio" "$p/usr/bin/"
	cp "$src/mkinitcpio.conf" "$p/etc/"
	for f in "$p/usr/bin/"* "$p/etc/mkinitcpio.conf" "$lib/"* "$lib/hooks/"* "$lib/install/"*; do
		[ -f "$f" ] || continue
		sed -i -e "s|@VERSION@|41|g; s|@BINDIR@|$p/usr/bin|g; s|@SYSCONFDIR@|$p/etc|g" \
			-e "s|@INITCPIO_LIBDIR@|$lib|g; s|@INITCPIO_SYSCONFDIR@|$p/etc/initcpio|g" \
			-e "s|@UDEVD_PATH@|/usr/lib/systemd/systemd-udevd|g; s|@TMPFILES_PATH@|/usr/bin/systemd-tmpfiles|g" \
			-e "s|@MKINITCPIO_HOOKS@|base udev autodetect modconf block filesystems fsck|g" \
			-e "s|@VCONSOLE_CONF@|/etc/vconsole.conf|g; s|/usr/lib/initcpio/|$lib/|g" "$f"
	done
	sed -i "s|^export PATH=\"\(.*\)\"|export PATH=\"\1:/usr/sbin:/usr/bin\"|" "$p/usr/bin/mkinitcpio"
	chmod 755 "$p/usr/bin/"* "$lib/functions"
	mk_busybox "$lib/busybox" || return 1
	sed -i "s|'/usr/lib/libkmod.so.2'|'/usr/lib/$multiarch/libkmod.so.2'|" "$lib/install/udev"
	sed -i -e 's#/usr/bin/\(sulogin\|swapon\|swapoff\)#/usr/sbin/\1#' \
		-e "s|find /usr/lib/ -maxdepth 1|find /usr/lib/ /usr/lib/$multiarch/ -maxdepth 1|" \
		-e '/systemd-executor\|systemd-validatefs\|20-systemd-stub\.conf\|90-image-dissect\.rules/d' \
		-e '/systemd-battery-check\|systemd-bsod\|systemd-hibernate-resume\|breakpoint-pre-/d' \
		"$lib/install/systemd"
	# Both list /etc/udev/hwdb.bin, which Debian does not build (only /usr/lib/udev/hwdb.bin).
	# A dropped line may have ended a continued list: the line before it must not end in "\".
	for f in "$lib/install/systemd" "$lib/install/udev"; do
		sed -i '\|/etc/udev/hwdb\.bin|d' "$f"
		awk '{ if (NR > 1) { if ($0 ~ /^[[:space:]]*$/ || $0 ~ /^[[:space:]]*#/ || $0 !~ /^[[:space:]]/) sub(/ \\$/, "", held); print held }
			held = $0 } END { print held }' "$f" >"$f.new" && mv "$f.new" "$f" && bash -n "$f" || return 1
	done
}

# mk_busybox OUT: Debian's dynamic busybox binary, downloaded once into the cache.
mk_busybox() {
	local cache=$GPUPASS_CACHE/mkinitcpio debs
	mkdir -p "$cache"
	debs=("$cache"/busybox_*.deb)
	if [ ! -f "${debs[0]}" ]; then
		(cd "$cache" && apt-get download busybox >"$cache/download.log" 2>&1) ||
			{ cat "$cache/download.log" >&2; return 1; }
		debs=("$cache"/busybox_*.deb)
	fi
	local deb=${debs[-1]}
	rm -rf "$MK_BUILD/busybox"
	dpkg-deb -x "$deb" "$MK_BUILD/busybox" && install -m 0755 "$MK_BUILD/busybox/bin/busybox" "$1"
}

# mk_test_hooks DIR: the test's own hook (never part of the package) in DIR/install and
# DIR/hooks: the host drivers, lspci, pci.ids and the report. Busybox /init runs the report as a
# runtime hook, listed after udev, so after udev's coldplug has settled; under systemd a unit
# wanted by initrd.target runs it (initrd-cleanup would stop one that is not).
mk_test_hooks() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir/install" "$dir/hooks"
	cp "$BOOT_LIB/gpupass-report" "$dir/gpupass-report"
	cat >"$dir/gpupass-report.service" <<-'EOT'
	[Unit]
	DefaultDependencies=no
	After=systemd-udev-trigger.service systemd-modules-load.service gpupass.service
	Before=initrd.target
	[Service]
	Type=oneshot
	ExecStart=/usr/bin/gpupass-report
	EOT
	cat >"$dir/install/gpupass-test" <<-EOT
	#!/bin/bash
	build() {
		map add_module $HOST_DRIVERS
		add_binary lspci
		add_file /usr/share/misc/pci.ids
		add_file "$dir/gpupass-report" /usr/bin/gpupass-report 0755
		$(vm_client_install add_binary add_file | sed '2,$s/^/		/')
		if declare -F add_systemd_unit >/dev/null; then
			add_file "$dir/gpupass-report.service" /usr/lib/systemd/system/gpupass-report.service 0644
			add_symlink /usr/lib/systemd/system/initrd.target.wants/gpupass-report.service ../gpupass-report.service
		else
			add_runscript
		fi
	}
	EOT
	printf '#!/usr/bin/ash\nrun_hook() {\n\t/usr/bin/gpupass-report\n}\n' >"$dir/hooks/gpupass-test"
}

# build_mkinitcpio FLAVOUR NAME CONF [VARIANT]: image of KVER with the package's hook, CONF as
# config, FLAVOUR busybox (HOOKS=(base gpupass udev ...)) or systemd (HOOKS=(base systemd
# gpupass ...)), as README.md tells users. VARIANT modules: the card's host drivers in MODULES=();
# nogpupass: the machine without the package, HOOKS=(base udev modconf) (systemd: base systemd
# modconf), BOOT_MODULES in MODULES=(), and BOOT_ETC laid over /etc, where modconf finds it.
build_mkinitcpio() {
	local flavour=$1 name=$2 conf=$3 variant=${4:-} hooks="gpupass udev" modules='' stage=${BOOT_STAGE:-}
	local out=$BOOT_BUILD/img/mkinitcpio-$flavour-$KVER-$name.img dir=$BOOT_BUILD/conf/mkinitcpio-$flavour-$KVER-$name
	# Busybox /init runs the early hooks in HOOKS= order and udev's starts udevd: gpupass goes
	# before it. The systemd hook has no runtime hooks; gpupass's install hook must come after it
	# to see that the image is systemd-based.
	[ "$flavour" = systemd ] && hooks="systemd gpupass"
	if [ "$variant" = nogpupass ]; then
		hooks="${hooks/gpupass/} modconf" stage=$BOOT_BUILD/stage-empty
		mkdir -p "$stage/usr"
	fi
	mkdir -p "$BOOT_BUILD/img"
	mk_test_hooks "$dir/test"
	# modules also has a guide's vfio-pci option in /etc/modprobe.d: HOOKS= has no modconf, so
	# only gpupass's hook can carry it into the image.
	local etc=
	if [ "$variant" = modules ]; then
		modules="bochs snd_hda_intel xhci_pci"
		etc=$dir/etc
		mkdir -p "$etc/modprobe.d"
		echo "options vfio-pci disable_vga=1" >"$etc/modprobe.d/vfio.conf"
	elif [ "$variant" = nogpupass ]; then
		modules=${BOOT_MODULES:-} etc=${BOOT_ETC:-}
	fi
	cat >"$dir/mkinitcpio.conf" <<-EOT
	MODULES=($modules)
	BINARIES=()
	FILES=()
	HOOKS=(base $hooks gpupass-test)
	COMPRESSION=cat
	EOT
	# The package's hooks are in /usr/lib/initcpio inside in_system, where make install put them.
	BOOT_STAGE=$stage BOOT_ETC=$etc in_system "$conf" env MKINITCPIO_INSTALL="$MK_LIBDIR/install:/usr/lib/initcpio/install:$dir/test/install" \
		MKINITCPIO_HOOKS="$MK_LIBDIR/hooks:/usr/lib/initcpio/hooks:$dir/test/hooks" \
		"$MKINITCPIO" -c "$dir/mkinitcpio.conf" -k "$KVER" -g "$out" >"$out.log" 2>&1 ||
		{ cat "$out.log" >&2; return 1; }
	echo "$out"
}

build_mkinitcpio_busybox() { build_mkinitcpio busybox "$@"; }
build_mkinitcpio_systemd() { build_mkinitcpio systemd "$@"; }
