#!/usr/bin/env bash
# bench/run.sh: verishake against Spin on the same bounded model, and the
# fsm engine against looplab/fsm and qmuntal/stateless, in one run.
#
#   bash bench/run.sh
#
# It installs what is missing (spin, a C compiler, GNU time: apt-get only;
# Go modules through the Go proxy), then:
#   1. Spin on bench/spin/handshake.pml and `verishake check` on the same
#      bounds (hardened; 1 client, 1 session, 1 loss, 1 dup, 1 injection,
#      retries capped at 1, 1 command), verishake without the token
#      renaming Spin's model does not do (and once with it, for reference,
#      outside the ratio); one table: states, transitions, seconds,
#      states/s, peak memory, bytes per stored state, verdict;
#   2. the same model with variants encoded in both, verdicts side by side;
#   3. fsm vs looplab/fsm vs qmuntal/stateless on one transition table,
#      machines-only handshakes/s and simulated handshakes/s;
#   4. the large model: two injections (Spin -DINJECTS=2, 36.8M states;
#      `check --injects 2`), Spin exact on 1 core, Spin's multi-core build
#      (NCORE=2), -DCOLLAPSE and -DHC4 beside verishake with a worker per
#      core (and with --compact, LARGE_COMPACT=1), each run once, with peak
#      RSS per state stored for every row;
# and ends with the lines
#   states/s ratio verishake/Spin: R.RRx
#   bytes per stored state: verishake N, Spin M
#   states/s ratio verishake/Spin best exact 2-core: R.RRx
#   peak bytes per state: verishake N, Spin best exact M
# Every figure is what this run measured. See docs/performance.md.
#
# Environment: SPIN_CFLAGS (default -O2 -DSAFETY -DNOREDUCE), SPIN_W (pan's
# hash table, 2^W slots; default 20, about one slot per state of this
# model; SPIN_W_LARGE, default 26, for the large model), SPIN_MEMLIM (MB,
# the multi-core build's shared memory; default 16000), ROUNDS (default
# 5: each tool runs that many times, interleaved, and its fastest run is
# reported), LARGE (1, the default: all four parts; 0: parts 1-3; only:
# part 4), LARGE_INJECTS (default 2: the large model's injections),
# LARGE_COMPACT=1 adds verishake --compact to part 4, LARGE_PARALLEL=1
# runs part 4's rows at the same time (on a machine shared with other
# work, where a row takes many minutes and its CPU seconds, not its wall
# time, are what compares), KEEP=1 keeps the scratch directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/verishake-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "scratch: $WORK" >&2
else
	trap 'rm -rf "$WORK"' EXIT
fi
SPIN_CFLAGS=${SPIN_CFLAGS:--O2 -DSAFETY -DNOREDUCE}
SPIN_W=${SPIN_W:-20}
SPIN_W_LARGE=${SPIN_W_LARGE:-26}
SPIN_MEMLIM=${SPIN_MEMLIM:-16000}
LARGE=${LARGE:-1}
LARGE_INJECTS=${LARGE_INJECTS:-2}
LARGE_COMPACT=${LARGE_COMPACT:-0}
LARGE_PARALLEL=${LARGE_PARALLEL:-0}

log() { echo "bench: $*" >&2; }

# ---- tools ----
SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
APT_UPDATED=0
apt_install() {
	if [ "$APT_UPDATED" = 0 ]; then
		log "apt-get update"
		$SUDO apt-get update -qq
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
command -v spin >/dev/null 2>&1 || apt_install spin
command -v cc >/dev/null 2>&1 || apt_install gcc
[ -x /usr/bin/time ] || apt_install time
command -v go >/dev/null 2>&1 || { echo "bench/run.sh: go is not installed (the project's toolchain)" >&2; exit 2; }
SPIN_VERSION=$(spin -V | awk '{print $3}')
CORES=$(getconf _NPROCESSORS_ONLN)

log "building verishake"
go build -o "$WORK/verishake" ./cmd/verishake

# ---- runners: each leaves key=value lines in $WORK/<tag>.res ----

# rss_lines TIME_OUT STATES: peak RSS in MB, peak RSS per state stored in
# bytes, and CPU seconds (user + system), from GNU time's -v output.
rss_lines() {
	awk -F': ' -v states="$2" '
		/Maximum resident set size/ { kb = $2 }
		/User time \(seconds\)/     { cpu += $2 }
		/System time \(seconds\)/   { cpu += $2 }
		END { printf "rss=%.1f\nrssb=%.1f\ncpu=%.1f\ncpurate=%.0f\n", kb / 1024, kb * 1024 / states, cpu, states / (cpu > 0 ? cpu : 0.01) }' "$1"
}

# run_spin TAG "-DMACRO..." "extra cc flags" "pan flags"
run_spin() {
	local tag=$1 defs=$2 cflags=$3 panflags=$4 d="$WORK/spin-$1"
	mkdir -p "$d"
	(
		cd "$d"
		# shellcheck disable=SC2086
		spin $defs -a "$ROOT/bench/spin/handshake.pml" >spin.out
		# shellcheck disable=SC2086
		cc $SPIN_CFLAGS $cflags -o pan pan.c
		# -c0: go on past errors, so that every violated assertion is named.
		# shellcheck disable=SC2086
		/usr/bin/time -v -o time.out ./pan -m100000 -w"${W:-$SPIN_W}" -c0 $panflags >pan.out || true
	)
	awk -v tag="$tag" '
		/states, stored/                 { states = $1 }
		/transitions \(= stored\+matched\)/ { trans = $1 }
		/^(pan|cpu0): elapsed time/      { secs = $4 }
		/actual memory usage for states/ { mem += $1 }
		/memory used for hash table/     { mem += $1 }
		/errors:/                        { for (i = 1; i <= NF; i++) if ($i == "errors:") errs = $(i+1) }
		END {
			if (states == "" || secs == "") { print "spin " tag ": no statistics in pan output" > "/dev/stderr"; exit 1 }
			if (secs == 0) secs = 0.01
			printf "states=%s\ntransitions=%s\nseconds=%.2f\nrate=%.0f\nbytes=%.1f\nerrors=%s\n", states, trans, secs, states / secs, mem * 1048576 / states, errs
		}' "$d/pan.out" >"$WORK/$tag.res"
	rss_lines "$d/time.out" "$(sed -n 's/^states=//p' "$WORK/$tag.res")" >>"$WORK/$tag.res"
	# Spin names an assertion by its expression: auth_c, auth_s, cmd_ok, live, bounded.
	local v
	v=$({ grep -o 'assertion violated [^ ]*' "$d/pan.out" || true; } | awk '{print $3}' | sort -u |
		sed -e 's/^auth_c$/AUTH-C/' -e 's/^auth_s$/AUTH-S/' -e 's/^cmd_ok$/CMD/' -e 's/^live$/LIVE/' -e 's/^bounded$/BOUNDED/' | paste -sd, -)
	if grep -q '^pan:.*invalid end state' "$d/pan.out"; then v=${v:+$v,}deadlock; fi
	if grep -qE 'pan:.*(out of memory|max search depth too small|aborted)' "$d/pan.out"; then v=${v:+$v,}INCOMPLETE; fi
	echo "verdict=${v:-holds}" >>"$WORK/$tag.res"
}

# run_verishake TAG [check flags...]: without token renaming, which Spin's
# model does not do, unless the flags turn it back on.
run_verishake() {
	local tag=$1 d="$WORK/vs-$1"
	shift
	mkdir -p "$d"
	/usr/bin/time -v -o "$d/time.out" "$WORK/verishake" check --agree=false --rename-tokens=false --json --cex "$d/cex" "$@" >"$d/out.json" || true
	local j
	j=$(cat "$d/out.json")
	num() { echo "$j" | grep -o "\"$1\":[0-9.e+-]*" | head -1 | cut -d: -f2; }
	[ -n "$(num states)" ] || { echo "verishake $tag: no report" >&2; exit 1; }
	{
		echo "states=$(num states)"
		echo "transitions=$(num transitions)"
		echo "seconds=$(awk -v s="$(num seconds)" 'BEGIN {printf "%.2f", s}')"
		echo "rate=$(awk -v s="$(num states_per_sec)" 'BEGIN {printf "%.0f", s}')"
		echo "bytes=$(awk -v s="$(num bytes_per_state)" 'BEGIN {printf "%.1f", s}')"
		rss_lines "$d/time.out" "$(num states)"
		local v
		v=$(echo "$j" | grep -o '"id":"[A-Z-]*","holds":[a-z]*,"verdict":"[a-z]*"' |
			awk -F'"' '$10 != "holds" { printf "%s%s", sep, ($10 == "unknown" ? $4 "?" : $4); sep = "," }')
		if echo "$j" | grep -q '"complete":false'; then v=${v:+$v,}INCOMPLETE; fi
		echo "verdict=${v:-holds}"
	} >"$WORK/$tag.res"
}

get() { sed -n "s/^$2=//p" "$WORK/$1.res"; }

row() { # row LABEL TAG
	printf "%-34s %10s %12s %8s %11s %9s %12s  %s\n" "$1" "$(get "$2" states)" "$(get "$2" transitions)" \
		"$(get "$2" seconds)" "$(get "$2" rate)" "$(get "$2" rss)" "$(get "$2" bytes)" "$(get "$2" verdict)"
}

# best TAG: of the runs TAG.1 .. TAG.$ROUNDS, keep the fastest as TAG.
best() {
	local tag=$1 k b=""
	for k in $(seq 1 "$ROUNDS"); do
		if [ -z "$b" ] || awk -v x="$(get "$tag.$k" seconds)" -v y="$(get "$b" seconds)" 'BEGIN { exit !(x < y) }'; then
			b=$tag.$k
		fi
	done
	cp "$WORK/$b.res" "$WORK/$tag.res"
}

# ---- 1. Spin and verishake on the same bounds ----
# The machine is shared and noisy: each tool runs ROUNDS times, the runs
# interleaved, and the table shows each one's fastest run.
ROUNDS=${ROUNDS:-5}
if [ "$LARGE" != only ]; then
for k in $(seq 1 "$ROUNDS"); do
	log "round $k of $ROUNDS: spin; spin -DHC4; verishake check ($CORES workers); verishake check (1 worker); verishake check, renaming"
	run_spin "spin.$k" "" "" ""
	run_spin "spin-hc4.$k" "" "-DHC4" ""
	run_verishake "vs.$k"
	run_verishake "vs1.$k" --workers 1
	run_verishake "vsr.$k" --rename-tokens=true
done
for tag in spin spin-hc4 vs vs1 vsr; do best "$tag"; done

# ---- 2. variants encoded in both ----
VARIANTS="no-client-token-check:AUTH-C no-server-token-check:AUTH-S no-command-seq:CMD static-server-token:AUTH-S"
for pv in $VARIANTS; do
	v=${pv%%:*}
	macro=$(echo "$v" | tr 'a-z-' 'A-Z_')
	log "variant $v: spin -D$macro, verishake check --variant $v"
	run_spin "spin-$v" "-D$macro" "" ""
	run_verishake "vs-$v" --variant "$v"
done

# ---- 3. engines, machines, simulator ----
# Each benchmark runs 3 times (-count 3) and the best run is reported, as
# the rows above are: the machine is shared and a run can lose a core.
metric() { echo "$1" | awk -v unit="$2" '{ for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }'; }
# bestof LINES UNIT: the line whose UNIT is highest.
bestof() { echo "$1" | awk -v unit="$2" '{ for (i = 2; i <= NF; i++) if ($i == unit && (best == "" || $(i-1) + 0 > best + 0)) { best = $(i-1); line = $0 } } END { print line }'; }
log "go test ./bench -bench BenchmarkEngines"
ENG=$(bestof "$(go test ./bench -run '^$' -bench '^BenchmarkEngines$' -benchtime 2000x -count 3 | grep '^BenchmarkEngines')" x-vs-looplab)
log "go test ./protocol -bench BenchmarkHandshake"
HS=$(bestof "$(go test ./protocol -run '^$' -bench '^BenchmarkHandshake$' -cpu 1 -benchtime 1s -count 3 | grep '^BenchmarkHandshake')" handshakes/s)
log "go test ./sim -bench BenchmarkSimHandshakes"
SIM=$(bestof "$(go test ./sim -run '^$' -bench '^BenchmarkSimHandshakes$' -cpu 1 -benchtime 1s -count 3 | grep '^BenchmarkSimHandshakes')" handshakes/s)
fi

# ---- 4. the large model ----
# Two injections: Spin's model stores 36.8M states, check's world (which
# also offers the insider's moves, floods and guesses Spin's model does not
# have; docs/performance.md) about 69M. Each run once: a run takes minutes.
# Spin's multi-core build refuses hidden variables: SCRATCH_VISIBLE makes
# the scratch globals ordinary ones, zeroed at the end of the d_step.
# large ROW...: run the rows, one after the other or with LARGE_PARALLEL=1
# all at once.
large() {
	local r
	for r in "$@"; do
		log "large model: $r"
		if [ "$LARGE_PARALLEL" = 1 ]; then large_row "$r" & else large_row "$r"; fi
	done
	wait
}
large_row() {
	case $1 in
	spin) W=$SPIN_W_LARGE run_spin big-spin "-DINJECTS=$LARGE_INJECTS" "" "" ;;
	spin2) W=$SPIN_W_LARGE run_spin big-spin2 "-DINJECTS=$LARGE_INJECTS -DSCRATCH_VISIBLE" "-DNCORE=2 -DMEMLIM=$SPIN_MEMLIM" "" ;;
	collapse) W=$SPIN_W_LARGE run_spin big-collapse "-DINJECTS=$LARGE_INJECTS" "-DCOLLAPSE" "" ;;
	hc4) W=$SPIN_W_LARGE run_spin big-hc4 "-DINJECTS=$LARGE_INJECTS" "-DHC4" "" ;;
	vs) run_verishake big-vs --injects "$LARGE_INJECTS" --max-states 0 ;;
	vsc) run_verishake big-vsc --injects "$LARGE_INJECTS" --max-states 0 --compact ;;
	esac
}
if [ "$LARGE" != 0 ]; then
	rows="spin spin2 collapse hc4 vs"
	if [ "$LARGE_COMPACT" = 1 ]; then rows="$rows vsc"; fi
	# shellcheck disable=SC2086
	large $rows
fi

# ---- report ----
# lrow LABEL TAG: a row of the large model's table.
lrow() {
	printf "%-42s %10s %8s %10s %8s %11s %9s %9s %12s  %s\n" "$1" "$(get "$2" states)" "$(get "$2" seconds)" \
		"$(get "$2" rate)" "$(get "$2" cpu)" "$(get "$2" cpurate)" "$(get "$2" rss)" "$(get "$2" rssb)" "$(get "$2" bytes)" "$(get "$2" verdict)"
}
if [ "$LARGE" != only ]; then
echo
echo "verishake vs Spin $SPIN_VERSION: hardened, 1 client, 1 session, 1 loss, 1 dup, 1 injection, retries <= 1, 1 command"
echo "($CORES cores; Spin: cc $SPIN_CFLAGS, pan -w$SPIN_W; verishake: check --agree=false, the properties Spin checks;"
echo " each row the fastest of $ROUNDS interleaved runs)"
echo
printf "%-34s %10s %12s %8s %11s %9s %12s  %s\n" "tool" "states" "transitions" "seconds" "states/s" "peak MB" "bytes/state" "verdict"
row "Spin $SPIN_VERSION (1 core)" spin
row "Spin $SPIN_VERSION -DHC4 (1 core)" spin-hc4
row "verishake ($CORES workers)" vs
row "verishake (1 worker)" vs1
echo "and with the token renaming check does by default (a smaller state space: not in the ratio):"
row "verishake ($CORES workers), renaming" vsr
echo
echo "variants (verdicts: the properties each run found violated)"
printf "%-24s %-9s %-26s %-26s %s\n" "variant" "breaks" "verishake" "Spin" "agree"
for pv in $VARIANTS; do
	v=${pv%%:*} p=${pv#*:}
	a=$(get "vs-$v" verdict) b=$(get "spin-$v" verdict)
	agree=no
	if [ "$a" = "$b" ]; then agree=yes; fi
	case ",$a," in *",$p,"*) ;; *) agree="no ($p not found by verishake)" ;; esac
	printf "%-24s %-9s %-26s %-26s %s\n" "$v" "$p" "$a" "$b" "$agree"
	printf "%-24s %-9s %-26s %-26s\n" "" "states" "$(get "vs-$v" states)" "$(get "spin-$v" states)"
done
echo
echo "fsm engines, one table (bench/engines_test.go), ns per transition:"
printf "  verishake fsm %.1f, looplab/fsm %.1f, qmuntal/stateless %.1f; verishake %.1fx looplab, %.1fx stateless\n" \
	"$(metric "$ENG" verishake-ns/transition)" "$(metric "$ENG" looplab-ns/transition)" "$(metric "$ENG" stateless-ns/transition)" \
	"$(metric "$ENG" x-vs-looplab)" "$(metric "$ENG" x-vs-stateless)"
printf "machines-only handshakes/s (1 core): %.0f\n" "$(metric "$HS" handshakes/s)"
printf "simulated handshakes/s, 10%% loss (1 core): %.0f\n" "$(metric "$SIM" handshakes/s)"
echo
awk -v a="$(get vs rate)" -v b="$(get spin rate)" 'BEGIN { printf "states/s ratio verishake/Spin: %.2fx\n", a / b }'
echo "bytes per stored state: verishake $(get vs bytes), Spin $(get spin bytes)"
fi
if [ "$LARGE" != 0 ]; then
	echo
	echo "the large model: $LARGE_INJECTS injections (Spin -DINJECTS=$LARGE_INJECTS, -w$SPIN_W_LARGE; verishake check --injects $LARGE_INJECTS --agree=false --rename-tokens=false --max-states 0)"
	if [ "$LARGE_PARALLEL" = 1 ]; then echo "(the rows ran at the same time, LARGE_PARALLEL=1: compare CPU seconds, not wall time)"; fi
	echo "(each row one run; cpu s: user + system CPU seconds, states/cpu-s the states over them, which another session's load"
	echo " on the shared machine moves less than wall time; peak B/st: peak RSS over states stored, everything included;"
	echo " visited B/st: Spin's state storage and hash table, verishake's visited set, over states stored)"
	echo
	printf "%-42s %10s %8s %10s %8s %11s %9s %9s %12s  %s\n" "tool" "states" "seconds" "states/s" "cpu s" "states/cpu-s" "peak MB" "peak B/st" "visited B/st" "verdict"
	lrow "Spin $SPIN_VERSION exact (1 core)" big-spin
	lrow "Spin $SPIN_VERSION NCORE=2 exact" big-spin2
	lrow "Spin $SPIN_VERSION -DCOLLAPSE exact (1 core)" big-collapse
	lrow "Spin $SPIN_VERSION -DHC4 lossy (1 core)" big-hc4
	lrow "verishake exact ($CORES workers)" big-vs
	if [ "$LARGE_COMPACT" = 1 ]; then lrow "verishake --compact lossy ($CORES workers)" big-vsc; fi
	echo "(Spin NCORE's peak RSS is its largest process's; its shared state storage counts in each process that touched it)"
	# Spin's best exact: the highest rate and, apart, the fewest peak bytes
	# per state among its exact rows.
	best_rate=0 best_cpurate=0 best_bytes=""
	for tag in big-spin big-spin2 big-collapse; do
		best_rate=$(awk -v a="$best_rate" -v b="$(get $tag rate)" 'BEGIN { print (b > a ? b : a) }')
		best_cpurate=$(awk -v a="$best_cpurate" -v b="$(get $tag cpurate)" 'BEGIN { print (b > a ? b : a) }')
		best_bytes=$(awk -v a="$best_bytes" -v b="$(get $tag rssb)" 'BEGIN { print (a == "" || b < a ? b : a) }')
	done
	echo
	awk -v a="$(get big-vs cpurate)" -v b="$best_cpurate" 'BEGIN { printf "states per CPU-second ratio verishake/Spin best exact: %.2fx\n", a / b }'
	awk -v a="$(get big-vs rate)" -v b="$best_rate" 'BEGIN { printf "states/s ratio verishake/Spin best exact 2-core: %.2fx\n", a / b }'
	echo "peak bytes per state: verishake $(get big-vs rssb), Spin best exact $best_bytes"
fi
