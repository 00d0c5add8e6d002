# SPDX-License-Identifier: MIT
# The boot matrix shared by initramfs-tools.bats and dracut.bats: which images to build, which
# boots to run, and what each case must show. One setup per generator builds every image and
# runs every boot (GPUPASS_JOBS at a time); each test then reads its own report.

# The suite whose kernel gets every case, and the one that gets the main cases.
FULL_SUITE=${GPUPASS_FULL_SUITE:-trixie}
MAIN_SUITE=${GPUPASS_MAIN_SUITE:-bookworm}

# case name, image, extra kernel command line. Images: none (no config file), pinned (the card
# by address and id), syntax (a config with errors), novfio (pinned, vfio modules taken out).
# Boots are what costs (about half a minute each under TCG): cases that only vary the command
# line share an image, and the two refusals share one boot.
# The main suite's kernel is booted from images its own release's generators built (Debian 12's
# on Debian 12), the full suite's from its release's (Debian 13's, in a root of it: see
# generator_root), so that what depends on the generator runs with both: the main cases, and
# those where something comes before gpupass or fails (FIRST_CASES).
# hostfirst, preload, hang: something ran before gpupass (gptest-early, chosen by gptest=):
# bochs has the card, vfio-pci is loaded, or modprobe vfio-pci hangs (with bochs on the card,
# and a short gpupass.timeout= so that the boot costs seconds, not a minute).
FIRST_CASES=(
	"novfio novfio"
	"hostfirst pinned gptest=hostfirst"
	"preload pinned gptest=preload"
	"hang pinned gptest=hostfirst gptest=hang gpupass.timeout=5"
)
MAIN_CASES=(
	"control none"
	"pinned pinned"
	"id none gpupass.add=$VGA_ID"
	"${FIRST_CASES[@]}"
)
FULL_CASES=(
	"${MAIN_CASES[@]}"
	"off pinned gpupass=off"
	"dryrun pinned gpupass=dry-run"
	"syntax syntax"
	"refused none gpupass.add=00:1f.2 gpupass.add=00:05.0,1234:2222"
)
# Cases that run with one generator only, in the full suite: what they check is the binary's
# policy on a machine, which the other generator's hook would not change.
# twinsata: a second ICH9 AHCI controller, the same id as the chipset's: an id entry naming
# that id must bind neither (the host's root disk may sit on either) and the host boots.
# switch: bound at boot, then the report runs release and claim in the booted guest
# (gptest=switch on the command line).
GEN_CASES_initramfs_tools=(
	"twinsata none gpupass.add=$SATA_ID"
	"switch pinned gptest=switch"
)
# QEMU devices a case adds to the test machine.
declare -gA CASE_DEVICES=(
	[twinsata]="-device ich9-ahci,bus=pcie.0,addr=07.0"
)

# GPUPASS_BOOT_CASES="NAME...": build and boot only these cases (to run one new case alone:
# its test is then selected with bats -f; the others find no report).
wanted() {
	[ -z "${GPUPASS_BOOT_CASES:-}" ] || [[ " $GPUPASS_BOOT_CASES " == *" $1 "* ]]
}

# cases GEN SUITE: the cases GEN boots with SUITE's kernel, one spec a line.
cases() {
	local gen=$1 suite=$2 c extra
	local -a all=("${MAIN_CASES[@]}")
	if [ "$suite" = "$FULL_SUITE" ]; then
		all=("${FULL_CASES[@]}")
		extra="GEN_CASES_${gen//-/_}[@]"
		all+=("${!extra}")
	fi
	for c in "${all[@]}"; do
		[ -n "$c" ] && wanted "${c%% *}" && echo "$c"
	done
}


write_configs() {
	local dir=$BOOT_BUILD/conf
	mkdir -p "$dir"
	cat >"$dir/pinned.conf" <<-EOT
	# The card in slot 5, pinned to its id.
	00:05.0 $VGA_ID
	EOT
	cat >"$dir/syntax.conf" <<-EOT
	# One good line and three bad ones: nothing may be bound.
	00:05.0 $VGA_ID
	00:05.9
	1234:11111
	00:06.0 frobnicate
	EOT
}

# Images: name, config (a file in $BOOT_BUILD/conf, or - for none), build variant (or -).
IMAGES=(
	"none - -"
	"pinned pinned.conf -"
	"syntax syntax.conf -"
	"novfio pinned.conf novfio"
)
# The main suite's cases need only these.
MAIN_IMAGES="none pinned novfio"

# build_all GEN: every image GEN needs, for both suites, GPUPASS_JOBS at a time.
build_all() {
	local gen=$1 suite spec image conf variant pids=() p
	write_configs
	for suite in "$MAIN_SUITE" "$FULL_SUITE"; do
		[ -z "${GPUPASS_BOOT_CASES:-}" ] || [ -n "$(cases "$gen" "$suite")" ] || continue
		kernel_root "$suite" || return 1
		# Debian's generators of that release (mkinitcpio is Arch's, the same for every kernel):
		# a root of another release is unpacked once, here, before the jobs that share it.
		case $gen in
		initramfs-tools | dracut) generator_root "$suite" >/dev/null || return 1 ;;
		esac
		for spec in "${IMAGES[@]}"; do
			read -r image conf variant <<<"$spec"
			[ "$suite" = "$FULL_SUITE" ] || [[ " $MAIN_IMAGES " == *" $image "* ]] || continue
			[ -z "${GPUPASS_BOOT_CASES:-}" ] ||
				cases "$gen" "$suite" | awk -v i="$image" '$2 == i { f = 1 } END { exit !f }' ||
				continue
			[ "$conf" = - ] && conf= || conf=$BOOT_BUILD/conf/$conf
			[ "$variant" = - ] && variant=
			"build_${gen//-/_}" "$image" "$conf" $variant >/dev/null 3>&- &
			pids+=($!)
			if [ ${#pids[@]} -ge "${GPUPASS_JOBS:-2}" ]; then
				wait "${pids[0]}" || return 1
				pids=("${pids[@]:1}")
			fi
		done
	done
	for p in "${pids[@]}"; do
		wait "$p" || return 1
	done
}

# image_path GEN SUITE IMAGE
image_path() {
	kernel_root "$2" && echo "$BOOT_BUILD/img/$1-$KVER-$3.img"
}

# boot_all GEN: every boot of the matrix; a failed boot shows up in its test, not here.
boot_all() {
	local gen=$1 suite c name image cmdline running=0 specs
	for suite in "$MAIN_SUITE" "$FULL_SUITE"; do
		mapfile -t specs < <(cases "$gen" "$suite")
		[ ${#specs[@]} -gt 0 ] || continue
		kernel_root "$suite" || return 1
		boot_accel >/dev/null
		for c in "${specs[@]}"; do
			read -r name image cmdline <<<"$c"
			BOOT_DEVICES=${CASE_DEVICES[$name]:-} \
				boot_vm "$BOOT_BUILD/img/$gen-$KVER-$image.img" "$gen-$suite-$name" $cmdline \
				>/dev/null 2>&1 3>&- &
			running=$((running + 1))
			if [ $running -ge "${GPUPASS_JOBS:-2}" ]; then
				wait -n || :
				running=$((running - 1))
			fi
		done
	done
	wait || :
}

# matrix_setup GEN: stage the package, build and boot everything, time it.
matrix_setup() {
	local start=$SECONDS
	rm -f "$BOOT_BUILD/run/$1-"*
	stage_package
	build_all "$1"
	echo "# $1: images built in $((SECONDS - start)) s" >&3
	start=$SECONDS
	boot_all "$1"
	echo "# $1: boots ($GPUPASS_ACCEL) done in $((SECONDS - start)) s" >&3
}

# report GEN SUITE CASE: select the report of one boot; fail with the console when it is missing.
report() {
	kernel_root "$2"
	REPORT=$BOOT_BUILD/run/$1-$2-$3.report
	if ! grep -q '^=== gpupass-report end' "$REPORT" 2>/dev/null; then
		echo "boot $1-$2-$3 ($KVER) gave no report; end of its console:"
		tail -n 40 "$BOOT_BUILD/run/$1-$2-$3.console" 2>/dev/null
		cat "$BOOT_BUILD/run/$1-$2-$3.qemu" 2>/dev/null
		return 1
	fi
}

assert_driver() {
	local got
	got=$(driver "$1")
	[ "$got" = "$2" ] || fail "$1: driver '$got', expected '$2'"
}

assert_none_on_vfio() {
	local on
	on=$(awk '$1 == "pci" && $5 == "vfio-pci" { print $2 }' "$REPORT")
	[ -z "$on" ] || fail "on vfio-pci: $on"
}

assert_kmsg() {
	kmsg_gpupass | grep -q -e "$1" || fail "no gpupass kernel log line matching '$1'; got:
$(kmsg_gpupass)"
}

# The host drivers own every function: what a boot without gpupass looks like.
assert_host_owns_all() {
	assert_driver $CARD bochs-drm
	assert_driver $CARD_AUDIO snd_hda_intel
	assert_driver $CARD_USB xhci_hcd
	assert_driver $TWIN bochs-drm
	assert_driver $SATA ahci
	assert_driver $LPC lpc_ich
	assert_driver $SMBUS i801_smbus
	assert_none_on_vfio
	assert_vm_refuses $CARD
	assert_vm_agrees
}

# kmsg_boot_run: gpupass's kernel log lines of the boot's own run, up to its "done:" line
# (later ones come from commands run in the booted machine, such as claim).
kmsg_boot_run() {
	kmsg_gpupass | sed '/^gpupass: done: /q'
}

# gpupass ran before any host driver could take a function: it had nothing to unbind.
assert_gpupass_first() {
	local l
	l=$(kmsg_boot_run | grep -E ': (unbound|cannot unbind) from ') || return 0
	fail "a host driver had the card before gpupass ran:
$l"
}

# The card's whole group is on vfio-pci, viable, and lspci -nnk says so; gpupass got it first.
assert_card_bound() {
	assert_gpupass_first
	assert_card_on_vfio
}

# assert_before_gpupass LINE: the kernel log has LINE (a test's own, gptest: ...) before
# gpupass's first line.
assert_before_gpupass() {
	section kmsg | sed 's/^\[[^]]*\] //' | awk -v l="$1" '
		$0 == l && !g { found = 1 } /^gpupass: / { g = 1 } END { exit !found }' ||
		fail "no '$1' before gpupass's first line in the kernel log: $(section kmsg | grep -e gptest -e gpupass)"
}

# The card's whole group is on vfio-pci, viable, and lspci -nnk says so.
assert_card_on_vfio() {
	local g
	assert_driver $CARD vfio-pci
	assert_driver $CARD_AUDIO vfio-pci
	assert_driver $CARD_USB vfio-pci
	g=$(group $CARD)
	assert_kmsg "group $g: 3/3 functions on vfio-pci"
	section 'gpupass status' | grep -q "^group $g: .*3/3 functions on vfio-pci; viable: yes" ||
		fail "group $g not viable: $(section 'gpupass status')"
	section 'lspci -nnk' | awk '/^[0-9a-f]/ { dev = $1 } /Kernel driver in use: vfio-pci/ { print dev }' |
		tr '\n' ' ' | grep -q '00:05.0 00:05.1 00:05.2' ||
		fail "lspci -nnk does not show the card on vfio-pci: $(section 'lspci -nnk')"
	assert_vm_attaches $CARD $CARD_AUDIO $CARD_USB
	assert_vm_agrees
}

# The real client (issue 15): the report starts a VM inside the booted guest for each IOMMU group
# with a function on vfio-pci, and for the card's group in any case (gpupass-report, vm_attach).
# VM_WHEN selects the VM of a later moment of the same boot ("after claim", ...).

# vm_section GROUP: what the report's VM for GROUP said (empty: none was started).
vm_section() {
	section "vm group $1${VM_WHEN:+ $VM_WHEN}"
}

# vm_id BDF: the id the report gives BDF's vfio-pci device in the VM (info pci prints it).
vm_id() {
	local a=${1//:/-}
	echo "vfio-$a"
}

# assert_vm_attaches BDF...: QEMU started and its VM shows each BDF as a device (by id).
assert_vm_attaches() {
	local a g out
	for a; do
		g=$(group "$a")
		out=$(vm_section "$g")
		[ -n "$out" ] || fail "no VM was started for group $g ($a)${VM_WHEN:+ $VM_WHEN}"
		grep -qx 'vm-exit 0' <<<"$out" || fail "QEMU could not attach group $g${VM_WHEN:+ $VM_WHEN}: $out"
		grep -qF "id \"$(vm_id "$a")\"" <<<"$out" ||
			fail "the VM for group $g${VM_WHEN:+ $VM_WHEN} does not show $a: $out"
	done
}

# assert_novfio_images: both kernels' novfio images have gpupass and no vfio module, by the
# generator's own listing (contents SUITE IMAGE, defined by each generator's test file).
assert_novfio_images() {
	local suite
	for suite in $MAIN_SUITE $FULL_SUITE; do
		run contents $suite novfio
		assert_line usr/sbin/gpupass
		refute_line --regexp "(vfio|irqbypass).*\.ko"
	done
}

# assert_vm_refuses BDF: QEMU could not attach BDF's group, and said why as users see it: no
# /dev/vfio/N (no function of the group on vfio-pci; QEMU 7.2 "failed to open", 10.0 "Could not
# open '/dev/vfio/N'") or the group not viable (one on a host driver).
assert_vm_refuses() {
	local g out
	g=$(group "$1")
	out=$(vm_section "$g")
	[ -n "$out" ] || fail "no VM was started for group $g ($1)${VM_WHEN:+ $VM_WHEN}"
	! grep -qx 'vm-exit 0' <<<"$out" || fail "QEMU attached group $g${VM_WHEN:+ $VM_WHEN}: $out"
	grep -Eq "(failed to open |Could not open ')/dev/vfio/$g\b|group $g is not viable" <<<"$out" ||
		fail "QEMU's error${VM_WHEN:+ $VM_WHEN} names neither /dev/vfio/$g nor 'not viable': $out"
	! grep -qF "id \"$(vm_id "$1")\"" <<<"$out" || fail "the VM shows $1: $out"
}

# assert_vm_agrees [STATUS]: gpupass status (section STATUS, default "gpupass status") and the
# VMs of the same boot agree: a group is "viable: yes" exactly when QEMU attached it, and one
# said "viable: no" was refused.
assert_vm_agrees() {
	local st=${1:-gpupass status} g line out
	local -A seen=()
	for g in $(sed -n "s/^=== vm group \([0-9]*\)${VM_WHEN:+ $VM_WHEN}\$/\1/p" "$REPORT"); do
		seen[$g]=1
		out=$(vm_section "$g")
		line=$(section "$st" | awk -v p="group $g: " 'index($0, p) == 1')
		if grep -qx 'vm-exit 0' <<<"$out"; then
			grep -q 'viable: yes' <<<"$line" ||
				fail "QEMU attached group $g but gpupass status says: ${line:-nothing of it}"
		else
			! grep -q 'viable: yes' <<<"$line" ||
				fail "gpupass status says group $g is viable, QEMU refused it: $out"
		fi
	done
	while read -r line; do
		g=${line#group }
		g=${g%%:*}
		[ -n "${seen[$g]:-}" ] || fail "gpupass status says '$line' and no VM tried group $g"
	done < <(section "$st" | grep -E '^group [0-9]+: .*viable: (yes|no)')
}

assert_status_ok() {
	grep -q '^status-exit 0$' "$REPORT" || fail "gpupass status failed: $(section 'gpupass status')"
}

# The cases. Each takes GEN and SUITE.
case_control() {
	report "$1" "$2" control || return 1
	assert_host_owns_all
	assert_kmsg 'nothing to do'
}

case_pinned() {
	report "$1" "$2" pinned || return 1
	assert_card_bound
	assert_driver $TWIN bochs-drm
	assert_driver $SATA ahci
	assert_status_ok
	assert_kmsg '/etc/gpupass.conf:2: 0000:00:05.0 \[1234:1111\]'
}

case_shellinit() {
	report "$1" "$2" shellinit || return 1
	assert_card_bound
	assert_driver $TWIN bochs-drm
	assert_status_ok
}

# A modules-load.d file in a systemd image names bochs and snd_hda_intel:
# systemd-modules-load.service loads them, after gpupass.service, which got the card first.
case_modload() {
	local order
	report "$1" "$2" modload || return 1
	assert_card_bound
	assert_driver $TWIN bochs-drm
	assert_status_ok
	[ "$(unit ActiveState gpupass.service)" = active ] || fail "gpupass.service did not run: $(section units)"
	[ "$(unit ActiveState systemd-modules-load.service)" = active ] ||
		fail "systemd-modules-load.service did not run: $(section units)"
	order=$(modules_load_after_gpupass) || fail "$order"
}

# dracut's shell /init with rd.driver.pre= naming the card's host drivers: its cmdline hook
# parse-kernel.sh loads them, after gpupass's cmdline hook got the card.
case_shellpre() {
	report "$1" "$2" shellpre || return 1
	assert_card_bound
	assert_driver $TWIN bochs-drm
	assert_status_ok
	section units | grep -q . && fail "a shell /init image runs systemd: $(section units)"
	return 0
}

case_id() {
	report "$1" "$2" id || return 1
	assert_card_bound
	assert_driver $TWIN vfio-pci
	assert_kmsg "group $(group $TWIN): 1/1 functions on vfio-pci"
	section 'gpupass status' | grep -q "^group $(group $TWIN): .*viable: yes" ||
		fail "twin's group not viable: $(section 'gpupass status')"
	assert_vm_attaches $TWIN
	assert_driver $SATA ahci
	assert_status_ok
}

# Without vfio-pci gpupass clears the overrides it wrote, so the host drivers take the card back.
case_novfio() {
	report "$1" "$2" novfio || return 1
	assert_gpupass_first
	assert_host_owns_all
	assert_kmsg 'vfio-pci is not available'
	assert_kmsg "group $(group $CARD): left to the host drivers"
}

case_off() {
	report "$1" "$2" off || return 1
	assert_host_owns_all
	assert_kmsg 'disabled by gpupass=off'
}

case_dryrun() {
	report "$1" "$2" dryrun || return 1
	assert_host_owns_all
	assert_kmsg 'dry-run'
	assert_kmsg "dry-run: group $(group $CARD): would bind 3 functions"
}

case_syntax() {
	report "$1" "$2" syntax || return 1
	assert_host_owns_all
	assert_kmsg '/etc/gpupass.conf:3: '
	assert_kmsg '/etc/gpupass.conf:4: '
	assert_kmsg '/etc/gpupass.conf:5: '
	assert_kmsg '3 errors in the configuration: binding nothing'
}

# One boot names two targets the binder must refuse: one in the chipset group, one whose
# pinned id no longer matches.
case_chipset() {
	report "$1" "$2" refused || return 1
	assert_host_owns_all
	assert_kmsg "group $(group $SATA): refused: .*0000:00:1f"
}

case_moved() {
	report "$1" "$2" refused || return 1
	assert_host_owns_all
	assert_kmsg '0000:00:05.0 is \[1234:1111\], not \[1234:2222\]'
}

# An id entry matching the chipset's SATA controller and an identical one in slot 7: neither
# is named, both groups are refused with the address to write, and the host keeps them all.
# gpupass runs before udev, so the controllers have no driver yet when it logs.
case_twinsata() {
	report "$1" "$2" twinsata || return 1
	assert_host_owns_all
	assert_driver $SATA2 ahci
	assert_kmsg "group $(group $SATA): refused: $SATA \[$SATA_ID\] SATA controller (on [^)]*) is one of several devices matching $SATA_ID"
	assert_kmsg "group $(group $SATA2): refused: $SATA2 \[$SATA_ID\] SATA controller (on [^)]*) is one of several devices matching $SATA_ID"
	assert_kmsg "e.g. the line $SATA2; gpupass list shows them"
	assert_kmsg 'done: 0 groups on vfio-pci, 2 targets skipped'
}

# Bound at boot; in the booted guest (gpupass-report, gptest=switch): release while a helper
# holds /dev/vfio/N open is refused, naming it; release hands the card to bochs-drm,
# snd_hda_intel and xhci_hcd; claim takes it all back, and status says viable.
case_switch() {
	local g pid
	report "$1" "$2" switch || return 1
	assert_card_bound
	g=$(group $CARD)
	pid=$(sed -n 's/^holder-pid //p' "$REPORT")
	[ -n "$pid" ] || fail "no holder started: $(section 'release while held')"
	grep -q '^release-held-exit 7$' "$REPORT" || fail "release while held: $(section 'release while held')"
	section 'release while held' | grep -q "group $g: in use: process $pid (sleep) holds /dev/vfio/$g open" ||
		fail "release while held does not name the holder $pid: $(section 'release while held')"
	section 'lspci -nnk while held' | lspci_drivers | grep -qx '00:05.0 vfio-pci 00:05.1 vfio-pci 00:05.2 vfio-pci' ||
		fail "release while held changed drivers: $(section 'lspci -nnk while held')"
	grep -q '^release-exit 0$' "$REPORT" || fail "release failed: $(section 'gpupass release')"
	section 'gpupass release' | grep -q "group $g: released: 3/3 functions on host drivers" ||
		fail "release: $(section 'gpupass release')"
	section 'lspci -nnk after release' | lspci_drivers |
		grep -qx '00:05.0 bochs-drm 00:05.1 snd_hda_intel 00:05.2 xhci_hcd' ||
		fail "after release: $(section 'lspci -nnk after release')"
	section 'gpupass status after release' | grep -q "^group $g: released since boot" ||
		fail "status after release: $(section 'gpupass status after release')"
	grep -q '^status-after-release-exit 0$' "$REPORT" || fail "status after release did not exit 0"
	VM_WHEN="after release" assert_vm_refuses $CARD
	VM_WHEN="after release" assert_vm_agrees 'gpupass status after release'
	grep -q '^claim-exit 0$' "$REPORT" || fail "claim failed: $(section 'gpupass claim')"
	section 'lspci -nnk after claim' | lspci_drivers |
		grep -qx '00:05.0 vfio-pci 00:05.1 vfio-pci 00:05.2 vfio-pci' ||
		fail "after claim: $(section 'lspci -nnk after claim')"
	section 'gpupass status after claim' | grep -q "^group $g: claimed since boot; now 3/3 functions on vfio-pci; viable: yes" ||
		fail "status after claim: $(section 'gpupass status after claim')"
	grep -q '^status-after-claim-exit 0$' "$REPORT" || fail "status after claim did not exit 0"
	VM_WHEN="after claim" assert_vm_attaches $CARD $CARD_AUDIO $CARD_USB
	VM_WHEN="after claim" assert_vm_agrees 'gpupass status after claim'
	assert_kmsg "group $g: 0000:00:05.1: released to snd_hda_intel"
	assert_kmsg "group $g: 3/3 functions on vfio-pci"
}

# bochs bound the cards before gpupass ran (gptest=hostfirst): gpupass unbinds it from the
# card (the one place a host driver had it first, logged), the twin stays on bochs-drm.
case_hostfirst() {
	local g l
	report "$1" "$2" hostfirst || return 1
	assert_before_gpupass "gptest: bochs loaded before gpupass"
	g=$(group $CARD)
	assert_card_on_vfio
	assert_kmsg "group $g: $CARD: unbound from bochs-drm"
	# Only the card's display function had a driver: audio and USB were still free.
	l=$(kmsg_boot_run | grep -c ': unbound from ')
	[ "$l" -eq 1 ] || fail "expected one unbind, got $l: $(kmsg_boot_run | grep 'unbound from')"
	assert_driver $TWIN bochs-drm
	assert_status_ok
}

# vfio-pci was loaded before gpupass ran (gptest=preload), as when it is built into the
# kernel: it took nothing by itself (its id table matches only overrides), so drivers_probe
# must still bring the card to it; gpupass had nothing to unbind. In Debian 12's
# initramfs-tools images that modprobe vfio-pci leaves vfio_iommu_type1 out (QEMU then says "No
# available IOMMU models"), so gpupass loads it; where it came along (Debian 13's), gpupass must
# leave it be. Either way the VM attaches.
case_preload() {
	local first='gptest: vfio-pci loaded before gpupass' with=', vfio_iommu_type1 with it'
	report "$1" "$2" preload || return 1
	if section kmsg | grep -qF "$first$with"; then
		assert_before_gpupass "$first$with"
		kmsg_boot_run | grep -q 'loaded vfio_iommu_type1' &&
			fail "vfio_iommu_type1 was there, yet gpupass loaded it: $(kmsg_boot_run)"
	else
		assert_before_gpupass "$first"
		assert_kmsg 'loaded vfio_iommu_type1 with /sbin/modprobe'
	fi
	assert_card_bound
	kmsg_boot_run | grep -q 'loaded vfio-pci with' && fail "gpupass loaded vfio-pci again: $(kmsg_boot_run)"
	section 'vfio parameters' | grep -q '^vfio_iommu_type1 ' || fail "no vfio_iommu_type1: $(section 'vfio parameters')"
	assert_driver $TWIN bochs-drm
	assert_status_ok
}

# modprobe vfio-pci hangs while bochs already has the card (gptest=hostfirst gptest=hang): after
# gpupass.timeout=5 it is killed, the boot goes on (the report ran), nothing was unbound, and
# the host drivers keep every function; dmesg says what hung.
case_hang() {
	report "$1" "$2" hang || return 1
	assert_before_gpupass "gptest: modprobe vfio-pci will hang"
	assert_before_gpupass "gptest: bochs loaded before gpupass"
	assert_gpupass_first
	assert_kmsg 'vfio-pci did not finish in 5 s: killed it'
	assert_kmsg 'vfio-pci is not available: loading it hung'
	assert_kmsg "group $(group $CARD): left to the host drivers"
	assert_host_owns_all
}

# lspci -nnk on stdin: "SLOT DRIVER" of the card's functions, on one line.
lspci_drivers() {
	awk '/^[0-9a-f]/ { dev = $1 } /Kernel driver in use:/ && dev ~ /^00:05\./ { printf "%s%s %s", sep, dev, $NF; sep = " " }
		END { print "" }'
}
