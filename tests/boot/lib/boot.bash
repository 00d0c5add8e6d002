# SPDX-License-Identifier: MIT
# Helpers for the boot tests: stage the package, build real initramfs images with
# initramfs-tools and dracut for real Debian kernels, boot them in QEMU, read the report.
# Everything lands in $BOOT_BUILD (build/boot); kernels are cached in $GPUPASS_CACHE.

BOOT_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BOOT_LIB/../../.." && pwd)
BOOT_BUILD=${GPUPASS_BUILD:-$REPO/build}/boot
# Downloaded kernels (and the package suite's debootstrap roots) are kept per machine when
# run as root, like apt's own cache, so that a fresh clone does not fetch them again.
if [ -z "${GPUPASS_CACHE:-}" ]; then
	GPUPASS_CACHE=$REPO/build/cache
	[ "$(id -u)" != 0 ] || GPUPASS_CACHE=/var/cache/gpupass-tests
fi
export GPUPASS_CACHE
BOOT_TIMEOUT=${GPUPASS_BOOT_TIMEOUT:-180}

# The test machine: a card of three functions in slot 5 (one IOMMU group), its identical twin
# alone in slot 6, and q35's own ICH9 functions at 1f.x (LPC, SATA, SMBus: one group).
CARD=0000:00:05.0 CARD_AUDIO=0000:00:05.1 CARD_USB=0000:00:05.2 TWIN=0000:00:06.0
LPC=0000:00:1f.0 SATA=0000:00:1f.2 SMBUS=0000:00:1f.3
VGA_ID=1234:1111
# ICH9 AHCI, the chipset's own and the one a case adds in slot 7 (CASE_DEVICES).
SATA_ID=8086:2922 SATA2=0000:00:07.0

# The host drivers that race gpupass for the card, and those that own the chipset group: in the
# image, udev loads them during coldplug as on a real machine.
HOST_DRIVERS="bochs snd_hda_intel snd_hda_codec_generic xhci_pci ahci lpc_ich i2c_i801"

# kernel_root SUITE: unpacked Debian kernel of SUITE; sets KROOT, KVER and KSUITE (SUITE, whose
# generators build_initramfs_tools and build_dracut run).
kernel_root() {
	KROOT=$("$BOOT_LIB/fetch-kernel" "$1") || return 1
	KVER=$(cat "$KROOT/../kver")
	KSUITE=$1
}

# stage_package: the package as `make install DESTDIR=... PREFIX=/usr` lays it out, in
# $BOOT_BUILD/stage; GPUPASS_BIN, when set, replaces the binary.
stage_package() {
	local stage=$BOOT_BUILD/stage
	rm -rf "$stage"
	mkdir -p "$BOOT_BUILD"
	make -s -C "$REPO" install DESTDIR="$stage" PREFIX=/usr >"$BOOT_BUILD/install.log" 2>&1 ||
		{ cat "$BOOT_BUILD/install.log" >&2; return 1; }
	if [ -n "${GPUPASS_BIN:-}" ]; then
		install -m 0755 "$GPUPASS_BIN" "$stage/usr/sbin/gpupass"
	fi
	# The package's example config binds nothing; each image gets its own (or none).
	rm -f "$stage/etc/gpupass.conf"
	hide_other_hooks
}

# Packages whose initramfs-tools pieces the test images keep. Any other package's hooks and
# scripts (lvm2, mdadm, cryptsetup... whatever this machine happens to have) are hidden in the
# namespace, so that images are the same on every machine, and smaller.
ITOOLS_KEEP="initramfs-tools initramfs-tools-core initramfs-tools-bin udev kmod klibc-utils busybox busybox-static"

# hide_other_hooks: $BOOT_BUILD/hide, an overlayfs layer of whiteouts for those files.
hide_other_hooks() {
	local hide=$BOOT_BUILD/hide dir=/usr/share/initramfs-tools f pkgs
	rm -rf "$hide"
	mkdir -p "$hide/usr"
	[ -d "$dir" ] || return 0
	find "$dir/hooks" "$dir/scripts" "$dir/conf-hooks.d" "$dir/modules.d" -mindepth 1 \
		\( -type f -o -type l \) 2>/dev/null | while read -r f; do
		pkgs=$(dpkg -S "$f" 2>/dev/null | sed 's/: .*//; s/,//g')
		for p in $pkgs; do
			[[ " $ITOOLS_KEEP " == *" $p "* ]] && continue 2
		done
		mkdir -p "$hide$(dirname "$f")"
		mknod "$hide$f" c 0 0
	done
}

# in_system CONF CMD...: run CMD in a private mount namespace that looks like a machine with
# the package installed, the kernel of kernel_root installed, and CONF as /etc/gpupass.conf
# (an empty CONF: no config file). The real system is left untouched: what CMD writes below
# /var/lib (the manifest gpupass's hook records) goes to a tmpfs that vanishes with it.
#   BOOT_ETC    a directory whose files are laid over /etc as well (modprobe.d/*.conf, ...)
#   BOOT_STAGE  the package tree laid over /usr (default: stage_package's); an empty one
#               gives a machine without gpupass
#   BOOT_ROOT   a Debian root (generator_root) to run CMD in, chrooted, instead of this
#               machine: the machine of another release. $BOOT_BUILD and $GPUPASS_CACHE are
#               at the same paths inside, so that CMD's arguments mean the same.
in_system() {
	local conf=$1 etc=$BOOT_BUILD/etc.$BASHPID
	shift
	rm -rf "$etc"
	mkdir -p "$etc"
	[ -z "${BOOT_ETC:-}" ] || cp -a "$BOOT_ETC/." "$etc/"
	if [ -n "$conf" ]; then
		cp "$conf" "$etc/gpupass.conf"
	else
		mknod "$etc/gpupass.conf" c 0 0 # an overlayfs whiteout: hides any host config
	fi
	unshare -m bash -ec '
		stage=$1 hide=$2 kroot=$3 etc=$4 root=$5 build=$6 cache=$7; shift 7
		mount --make-rprivate /
		scratch=$etc.scratch
		mkdir -p "$scratch"
		mount -t tmpfs gpupass-scratch "$scratch"
		mkdir "$scratch/upper" "$scratch/work"
		# This machine (no root) gets the whiteouts of hide_other_hooks. A root of another
		# release has no other packages to hide (and its /lib is /usr/lib).
		[ -z "$root" ] || { hide=$scratch/nohide; mkdir -p "$hide/usr"; }
		mount -t overlay gpupass-usr -o "lowerdir=$stage/usr:$hide/usr:$kroot/usr:$root/usr" "$root/usr"
		[ -n "$root" ] || [ -L /lib ] || mount -t overlay gpupass-lib -o "lowerdir=$kroot/usr/lib:/lib" /lib
		mount --bind "$kroot/boot" "$root/boot"
		mount -t overlay gpupass-etc -o "lowerdir=$etc:$root/etc" "$root/etc"
		mount -t overlay gpupass-var -o "lowerdir=$root/var/lib,upperdir=$scratch/upper,workdir=$scratch/work" "$root/var/lib"
		[ -n "$root" ] || exec "$@"
		# Another release: the kernel file systems and the work directories of this run bound in.
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs gpupass-tmp "$root/tmp"
		mount -t tmpfs gpupass-tmp "$root/var/tmp"
		for d in "$build" "$cache"; do
			mkdir -p "$root$d"
			mount --bind "$d" "$root$d"
		done
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
	' in_system "${BOOT_STAGE:-$BOOT_BUILD/stage}" "$BOOT_BUILD/hide" "$KROOT" "$etc" \
		"${BOOT_ROOT:-}" "$BOOT_BUILD" "$GPUPASS_CACHE" "$@"
	local rc=$?
	rm -rf "$etc" "$etc.scratch"
	return $rc
}

# The packages of a generator root: both generators, as the matrix builds with either, the
# pieces the images take from the system (busybox, udev, kmod, systemd's units and poweroff),
# lspci and pci.ids, and the real client (QEMU) the report starts in the booted guest.
GENERATOR_ROOT_INCLUDE=initramfs-tools-core,dracut-core,systemd,systemd-sysv,udev,kmod,busybox,zstd,pciutils,qemu-system-x86

# generator_root SUITE: print where SUITE's initramfs-tools and dracut are, as BOOT_ROOT wants
# it. For this machine's own release that is this machine (nothing printed); for another
# release it is a debootstrap root of SUITE (tests/lib/roots.bash), unpacked once into
# $BOOT_BUILD/root-SUITE and left as it is from then on (in_system lays its changes over it).
# Not safe to run twice at once for the same SUITE: build_all prepares the root before it
# starts its jobs.
generator_root() {
	local suite=$1 root=$BOOT_BUILD/root-$1 own
	own=$(. /etc/os-release && echo "$VERSION_CODENAME")
	[ "$suite" != "$own" ] || return 0
	if [ "$(cat "$root/.gpupass-root" 2>/dev/null)" != "$GENERATOR_ROOT_INCLUDE" ]; then
		# shellcheck source=../../lib/roots.bash
		(. "$REPO/tests/lib/roots.bash" && fresh_root "$suite" "$GENERATOR_ROOT_INCLUDE" "$root") \
			>"$root.log" 2>&1 || { cat "$root.log" >&2; return 1; }
		echo "$GENERATOR_ROOT_INCLUDE" >"$root/.gpupass-root"
	fi
	echo "$root"
}

# The real client in the test image (issue 15): QEMU, started by the report inside the booted
# guest to attach what gpupass bound. One list for every generator's test pieces, a line each:
# "exec PATH" (an ELF file, installed with the libraries it links), "optexec PATH" (the same,
# where the system building the image has it) or "file SRC DST" (data).
# Debian 12's QEMU has the TCG accelerator as a module it loads at run time ("could not load
# module for type 'tcg-accel-ops'" without it), Debian 13's has it built in; the BIOS comes from
# seabios, where QEMU looks in its own data directory; kvmvapic.bin is the option ROM every x86
# machine loads; timeout keeps a hung QEMU from eating the boot's whole time.
vm_client_files() {
	cat <<-'EOT'
	exec /usr/bin/qemu-system-x86_64
	optexec /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
	exec /usr/bin/timeout
	file /usr/share/seabios/bios-256k.bin /usr/share/qemu/bios-256k.bin
	file /usr/share/qemu/kvmvapic.bin /usr/share/qemu/kvmvapic.bin
	EOT
}

# vm_client_install EXEC FILE: vm_client_files as shell commands of a generator's install
# language: EXEC is the command that installs an ELF file with its libraries, FILE the one that
# copies SRC to DST, e.g. "copy_exec" and "copy_file vm-client" for initramfs-tools.
vm_client_install() {
	local kind src dst
	vm_client_files | while read -r kind src dst; do
		case $kind in
		exec) echo "$1 $src" ;;
		optexec) echo "[ ! -e $src ] || $1 $src" ;;
		file) echo "$2 $src $dst" ;;
		esac
	done
}

# itools_report_hooks DIR REPORT [vm]: the initramfs-tools test pieces in DIR (a CONFDIR, or a
# root's /etc/initramfs-tools): a hook that adds the host drivers, lspci, pci.ids, the
# version of initramfs-tools (etc/gptest-generator) and the report (REPORT, the path as the
# hook sees it), and an init-premount script that runs it once udev's coldplug has settled.
# vm: the real client too (vm_client_files).
itools_report_hooks() {
	local dir=$1 report=$2 vm=
	[ "${3:-}" != vm ] || vm=$(vm_client_install copy_exec "copy_file vm-client")
	mkdir -p "$dir/hooks" "$dir/scripts/init-premount"
	cat >"$dir/hooks/gpupass-test" <<-EOT
	#!/bin/sh
	[ "\$1" = prereqs ] && exit 0
	. /usr/share/initramfs-tools/hook-functions
	manual_add_modules $HOST_DRIVERS
	copy_exec /usr/bin/lspci /usr/bin
	copy_file pciids /usr/share/misc/pci.ids
	copy_file script $report /usr/bin/gpupass-report
	$vm
	# Which initramfs-tools built the image, for the tests to check (dpkg's version).
	dpkg-query -W -f='initramfs-tools \${Version}\n' initramfs-tools-core >"\$DESTDIR/etc/gptest-generator" || :
	EOT
	cat >"$dir/scripts/init-premount/gpupass-report" <<-'EOT'
	#!/bin/sh
	[ "$1" = prereqs ] && exit 0
	/usr/bin/gpupass-report
	EOT
	chmod +x "$dir/hooks/gpupass-test" "$dir/scripts/init-premount/gpupass-report"
}

# dracut_report_module DIR REPORT [standalone] [vm]: the dracut test module in DIR: the host
# drivers, lspci, pci.ids and the report (REPORT, the path as module-setup.sh sees it), run
# once udev has settled. By default it comes in with gpupass (depends on it, never picked
# by itself); standalone: picked by itself and depending on nothing, so that the package's
# own module must be found on its own. vm: the real client too (vm_client_files), and in a
# systemd image gptest-early (what can come before gpupass, chosen by gptest= words), run by
# a unit ordered before gpupass.service.
dracut_report_module() {
	local mod=$1 report=$2 check='return 255' depends='echo gpupass' vm= opt
	for opt in "${@:3}"; do
		case $opt in
		standalone) check='return 0' depends='return 0' ;;
		vm)
			vm=$(vm_client_install inst_multiple inst_simple)
			vm+=$'\nif dracut_module_included systemd; then'
			vm+=$'\ninst_simple "$moddir/gptest-early" /usr/lib/gptest/early'
			vm+=$'\ninst_simple "$moddir/gptest-early.service" "$systemdsystemunitdir/gptest-early.service"'
			vm+=$'\n$SYSTEMCTL -q --root "$initdir" enable gptest-early.service'
			vm+=$'\nfi'
			;;
		esac
	done
	mkdir -p "$mod"
	[ -z "$vm" ] || dracut_early_unit "$mod"
	cat >"$mod/module-setup.sh" <<-EOT
	#!/bin/bash
	check() { $check; }
	depends() { $depends; }
	installkernel() { hostonly='' instmods $HOST_DRIVERS; }
	install() {
		inst_multiple lspci grep readlink dmesg sed cat sync poweroff
		inst_simple /usr/share/misc/pci.ids
		inst_simple $report /usr/bin/gpupass-report
		$vm
		inst_hook initqueue/settled 99 "\$moddir/report-hook.sh"
		# dracut-initqueue.service only starts when this exists.
		: >"\$initdir/lib/dracut/need-initqueue"
	}
	EOT
	echo '/usr/bin/gpupass-report' >"$mod/report-hook.sh"
	chmod +x "$mod/module-setup.sh"
}

# dracut_early_unit DIR: gptest-early in the test module DIR, and its unit: wanted where
# gpupass.service is and started before it, with no default dependencies, as gpupass.service
# has none: it may run as early as any unit of the initrd.
dracut_early_unit() {
	cp "$BOOT_LIB/gptest-early" "$1/gptest-early"
	cat >"$1/gptest-early.service" <<-'EOT'
	[Unit]
	Description=gpupass boot test: what runs before gpupass (gptest=)
	DefaultDependencies=no
	Before=gpupass.service
	ConditionKernelCommandLine=|gptest=hostfirst
	ConditionKernelCommandLine=|gptest=preload
	ConditionKernelCommandLine=|gptest=hang

	[Service]
	Type=oneshot
	RemainAfterExit=yes
	ExecStart=/bin/sh /usr/lib/gptest/early

	[Install]
	WantedBy=sysinit.target
	EOT
}

# itools_early_hook DIR: gptest-early (what can come before gpupass, chosen by gptest= words)
# for the boot matrix. /init sources the image's conf/conf.d files before any init-top script,
# so a file there runs before gpupass; the hook writes it into the image only (mkinitramfs
# would source a CONFDIR/conf.d file while building).
itools_early_hook() {
	cp "$BOOT_LIB/gptest-early" "$1/gptest-early"
	cat >"$1/hooks/gpupass-test-early" <<-'EOT'
	#!/bin/sh
	[ "$1" = prereqs ] && exit 0
	cp "$CONFDIR/gptest-early" "$DESTDIR/conf/conf.d/gpupass-test-early"
	EOT
	chmod +x "$1/hooks/gpupass-test-early"
}

# The initramfs-tools test pieces, kept in a private CONFDIR (mkinitramfs -d): a small image
# (MODULES=list) with busybox, the host drivers, lspci and the report run from init-premount,
# after udev's coldplug has settled. BOOT_MODULES names modules for the CONFDIR's modules
# file, which initramfs-tools puts in the image and loads at boot (none by default).
itools_confdir() {
	local confdir=$1 variant=$2
	rm -rf "$confdir"
	mkdir -p "$confdir/conf.d"
	cat >"$confdir/initramfs.conf" <<-'EOT'
	MODULES=list
	BUSYBOX=y
	KEYMAP=n
	COMPRESS=zstd
	COMPRESSLEVEL=1
	RUNSIZE=10%
	FSTYPE=auto
	EOT
	: >"$confdir/modules"
	# shellcheck disable=SC2086 # module names are words
	[ -z "${BOOT_MODULES:-}" ] || printf '%s\n' $BOOT_MODULES >"$confdir/modules"
	cp "$BOOT_LIB/gpupass-report" "$confdir/gpupass-report"
	itools_report_hooks "$confdir" '"$CONFDIR/gpupass-report"' vm
	itools_early_hook "$confdir"
	if [ "$variant" = novfio ]; then
		# Admin hooks run after the package hooks: take back what gpupass put in.
		cat >"$confdir/hooks/gpupass-test-novfio" <<-'EOT'
		#!/bin/sh
		[ "$1" = prereqs ] && exit 0
		find "$DESTDIR/lib/modules/$version" \( -name 'vfio*.ko*' -o -name 'irqbypass.ko*' \) -delete
		EOT
		chmod +x "$confdir/hooks/gpupass-test-novfio"
	fi
}

# build_initramfs_tools NAME CONF [VARIANT]: image for KVER with the package, CONF as config.
# VARIANT: novfio (the vfio modules taken out again), nogpupass (the machine without the
# package: no gpupass, no vfio modules unless BOOT_MODULES names them).
build_initramfs_tools() {
	local name=$1 conf=$2 variant=${3:-} stage=${BOOT_STAGE:-}
	local out=$BOOT_BUILD/img/initramfs-tools-$KVER-$name.img confdir=$BOOT_BUILD/conf/itools-$KVER-$name
	local root
	root=$(generator_root "$KSUITE") || return 1
	mkdir -p "$BOOT_BUILD/img"
	if [ "$variant" = nogpupass ]; then
		stage=$BOOT_BUILD/stage-empty
		mkdir -p "$stage/usr"
	fi
	itools_confdir "$confdir" "$variant"
	BOOT_ROOT=$root BOOT_STAGE=$stage in_system "$conf" mkinitramfs -d "$confdir" -o "$out" "$KVER" >"$out.log" 2>&1 ||
		{ cat "$out.log" >&2; return 1; }
	echo "$out"
}

# The dracut test pieces: a private copy of the dracut tree (dracutbasedir) with a test module
# that adds the host drivers, lspci and the report, run from the initqueue once udev settled.
# dracut_basedir ROOT BASE [standalone]: the copy of ROOT's dracut (ROOT empty: this machine's)
# at BASE; standalone, the test module does not pull in gpupass's.
dracut_basedir() {
	local root=$1 base=$2
	rm -rf "$base"
	cp -a "$root/usr/lib/dracut" "$base"
	cp -a "$BOOT_BUILD/stage/usr/lib/dracut/modules.d/." "$base/modules.d/"
	local mod=$base/modules.d/99gpupass-test
	dracut_report_module "$mod" '"$moddir/gpupass-report"' "${@:3}" vm
	cp "$BOOT_LIB/gpupass-report" "$mod/gpupass-report"
	chmod +x "$mod/gpupass-report"
}

# build_dracut NAME CONF [VARIANT]: image for KVER with the package, CONF as config.
# VARIANT: novfio (vfio modules left out), hostonly (built the way Fedora does, for this
# machine's hardware), shellinit (dracut's own shell /init instead of systemd), modload
# (systemd, with a modules-load.d file naming the card's host drivers, as users write to load
# a GPU driver early: systemd-modules-load loads them at once, not waiting for udev),
# nogpupass (the machine without the package; BOOT_MODULES become force_drivers, and the
# files of BOOT_ETC/modprobe.d go into the image, as a host-only image would carry them).
build_dracut() {
	local name=$1 conf=$2 variant=${3:-} omit=() mode=--no-hostonly init=dracut-systemd extra=()
	local out=$BOOT_BUILD/img/dracut-$KVER-$name.img base=$BOOT_BUILD/conf/dracut-$KVER-$name
	local gpupass=gpupass test=() stage=${BOOT_STAGE:-} f root
	root=$(generator_root "$KSUITE") || return 1
	mkdir -p "$BOOT_BUILD/img" "$BOOT_BUILD/conf/dracut-empty.d"
	case $variant in
	nogpupass)
		gpupass='' test=(standalone) stage=$BOOT_BUILD/stage-empty
		mkdir -p "$stage/usr"
		[ -z "${BOOT_MODULES:-}" ] || extra=(--force-drivers "$BOOT_MODULES")
		for f in "${BOOT_ETC:-/nonexistent}"/modprobe.d/*.conf; do
			[ ! -f "$f" ] || extra+=(--include "$f" "/etc/modprobe.d/${f##*/}")
		done
		;;
	novfio) omit=(--omit-drivers "$(sed 's/#.*//' "$REPO/hook/modules" | tr '\n' ' ')") ;;
	hostonly) mode=--hostonly ;;
	# kernel-modules, as in every real image: its cmdline hook loads rd.driver.pre= modules.
	# drivers= keeps it to the host drivers, instead of every storage and input driver.
	shellinit)
		init="rootfs-block kernel-modules"
		extra=(--drivers "$HOST_DRIVERS")
		;;
	modload)
		init="dracut-systemd systemd-modules-load"
		printf '%s\n' bochs snd_hda_intel >"$base.modules-load.conf"
		extra=(--include "$base.modules-load.conf" /etc/modules-load.d/gpupass-test.conf)
		;;
	esac
	dracut_basedir "$root" "$base" "${test[@]}"
	BOOT_ROOT=$root BOOT_STAGE=$stage in_system "$conf" env dracutbasedir="$base" dracut \
		--conf /dev/null --confdir "$BOOT_BUILD/conf/dracut-empty.d" \
		--kver "$KVER" --kmoddir "$KROOT/usr/lib/modules/$KVER" \
		"$mode" --no-early-microcode --no-compress \
		-m "base udev-rules $init $gpupass gpupass-test" "${omit[@]}" "${extra[@]}" \
		--force "$out" >"$out.log" 2>&1 || { cat "$out.log" >&2; return 1; }
	echo "$out"
}

# boot_accel: kvm when it really runs KVER's kernel, tcg otherwise; GPUPASS_ACCEL overrides.
# Opening /dev/kvm is not enough: some nested hypervisors (PVM) accept every ioctl but only run
# specially built guests, and a stock kernel then spins silently. So boot it for a few seconds.
boot_accel() {
	if [ -z "${GPUPASS_ACCEL:-}" ]; then
		GPUPASS_ACCEL=tcg
		if [ -w /dev/kvm ] && timeout 5 qemu-system-x86_64 -machine q35,accel=kvm \
			-cpu host,-arch-capabilities -m 256 -nodefaults -display none -no-reboot \
			-kernel "$KROOT/boot/vmlinuz-$KVER" -append "console=ttyS0 panic=-1" \
			-serial stdio </dev/null 2>/dev/null | grep -q -m1 'Linux version'; then
			GPUPASS_ACCEL=kvm
		fi
		export GPUPASS_ACCEL
	fi
	echo "$GPUPASS_ACCEL"
}

# Skipped at boot because they take seconds under TCG and touch nothing tested here: crypto
# self-tests, encrypted keys, BPF struct_ops and jitter entropy set-up. no_timer_check: on a
# busy machine the emulated timer can miss the kernel's IO-APIC check, which then panics
# ("timer doesn't work through Interrupt-remapped IO-APIC").
BOOT_FAST="no_timer_check cryptomgr.notests initcall_blacklist=init_encrypted,crypto_kdf108_init,bpf_tcp_ca_kfunc_init,bpf_dummy_struct_ops_init,jent_mod_init"

# boot_vm IMAGE NAME [CMDLINE...]: boot KVER's kernel with IMAGE on the test machine, plus the
# QEMU arguments in BOOT_DEVICES. The report lands in $BOOT_BUILD/run/NAME.report, the serial
# console in NAME.console.
boot_vm() {
	local image=$1 name=$2
	shift 2
	local run=$BOOT_BUILD/run accel cpu kernel
	mkdir -p "$run"
	accel=$(boot_accel)
	cpu=max
	# Nested KVM may refuse the host's MSR_IA32_ARCH_CAPABILITIES: the guest needs none of it.
	[ "$accel" = kvm ] && cpu=host,-arch-capabilities
	rm -f "$run/$name.report" "$run/$name.console"
	# The ELF kernel when fetch-kernel could extract it: QEMU boots it without decompressing.
	kernel=$KROOT/boot/vmlinux-$KVER
	[ -f "$kernel" ] || kernel=$KROOT/boot/vmlinuz-$KVER
	# -no-reboot with panic=-1: a kernel panic ends QEMU at once instead of looping.
	timeout "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel="$accel",kernel-irqchip=split -cpu "$cpu" -smp 1 -m 768 \
		-nodefaults -display none -no-reboot \
		-device intel-iommu,intremap=on,caching-mode=on \
		-audiodev none,id=snd \
		-device secondary-vga,bus=pcie.0,addr=05.0,multifunction=on \
		-device ich9-intel-hda,id=hda,bus=pcie.0,addr=05.1 \
		-device hda-duplex,bus=hda.0,audiodev=snd \
		-device qemu-xhci,bus=pcie.0,addr=05.2 \
		-device secondary-vga,bus=pcie.0,addr=06.0 \
		${BOOT_DEVICES:-} \
		-kernel "$kernel" -initrd "$image" \
		-append "console=ttyS0 intel_iommu=on panic=-1 quiet root=LABEL=gpupass-no-root $BOOT_FAST $*" \
		-serial "file:$run/$name.console" -serial "file:$run/$name.report" \
		</dev/null >"$run/$name.qemu" 2>&1
	local rc=$?
	REPORT=$run/$name.report
	# The guest's tty writes CR LF, and CR CR LF for QEMU's monitor (in the report) which ends
	# its lines with CR LF itself.
	[ -f "$REPORT" ] && sed -i 's/\r*$//' "$REPORT"
	if ! grep -q '^=== gpupass-report end' "$REPORT" 2>/dev/null; then
		echo "boot $name: no complete report (qemu exit $rc); console:" >&2
		tail -n 60 "$run/$name.console" >&2
		cat "$run/$name.qemu" >&2
		return 1
	fi
}

# driver BDF: the driver the booted machine had on BDF ("-" for none), from $REPORT.
driver() {
	awk -v b="$1" '$1 == "pci" && $2 == b { print $5 }' "$REPORT"
}

# group BDF: the IOMMU group of BDF.
group() {
	awk -v b="$1" '$1 == "pci" && $2 == b { print $6 }' "$REPORT"
}

# section NAME: the lines of one report section (lspci -nnk, gpupass status, kmsg, ...).
section() {
	awk -v s="=== $1" '/^=== / { on = ($0 == s); next } on' "$REPORT"
}

# unit PROPERTY UNIT: one property of a unit from the report's systemctl show (a paragraph
# per unit, properties in systemd's order).
unit() {
	section units | awk -v u="Id=$2" -v p="$1=" 'BEGIN { RS = ""; FS = "\n" }
		{ v = ""; for (i = 1; i <= NF; i++) { if ($i == u) f = 1; if (index($i, p) == 1) v = substr($i, length(p) + 1) } }
		f { print v; exit }'
}

# modules_load_after_gpupass: by the report's units, systemd-modules-load.service started only
# once gpupass.service had exited; otherwise says when each did, and fails.
modules_load_after_gpupass() {
	local done start
	done=$(unit ExecMainExitTimestampMonotonic gpupass.service)
	start=$(unit ExecMainStartTimestampMonotonic systemd-modules-load.service)
	[ "${done:-0}" -gt 0 ] && [ "$done" -le "${start:-0}" ] && return 0
	echo "systemd-modules-load started at $start, before gpupass was done at $done"
	return 1
}

# kmsg_gpupass: the gpupass lines of the kernel log, without timestamps.
kmsg_gpupass() {
	section kmsg | sed -n 's/^\[[^]]*\] //; /^gpupass: /p'
}
