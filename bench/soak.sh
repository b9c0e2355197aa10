#!/usr/bin/env bash
# bench/soak.sh: verishake serve under faults, as a separate process, in one
# run that prints one table of figures.
#
#   bash bench/soak.sh
#
# It needs Go (the toolchain of go.mod) and nothing else: the Go modules
# come through the Go proxy when the two programs are built. Then, every
# address on loopback (127.0.0.1), with an in-process FCM-shaped push sink
# standing for the platform:
#   1. the crash campaign: 64 handshakes at a time against serve on bbolt,
#      each under a fresh RegID, the server killed with SIGKILL at random
#      moments (every 0.16..0.8 s) until 2,000 handshakes have verified;
#      after each kill the file is opened offline and must pass bbolt's
#      consistency check (Tx.Check over every page, what `bbolt check`
#      runs), and every session a client saw verified and still inside its
#      lifetime must be stored verified with that client's Ts; then every
#      verified session's Confirm1 is replayed to the restarted server: each
#      is re-answered and none verifies again;
#   2. a 60 s sustained load, 64 handshakes in flight, on the memory store
#      and on bbolt: rate, p50/p99 latency, failures; on bbolt the server
#      then idles 10 s and its file must hold no session past its lifetime;
#   3. the forged-Hello flood: 1,100 forged Hellos at once on bbolt (cap
#      1,024) with 123 legitimate handshakes alongside in three rounds: at
#      least 90% of the round started with the flood must verify (its
#      Hellos evict forged sessions), the half-open count must fall from the
#      cap within the lifetime (60 s), and the rounds started after it must
#      all verify;
#   4. steady floods: forged Hellos at 200/s, then at 960/s, for 30 s each
#      on a fresh bbolt server, with 40 legitimate handshakes started once
#      the forged sessions fill the cap: at least 90% must verify within
#      10 s while the flood goes on;
#   5. the crash campaign's Confirm1s replayed again once their lifetime is
#      over: every one must be refused.
# A figure that breaks a promise is marked NO and the script exits 1. It
# takes about 5 minutes on the project's 2-core machine.
#
# Environment: SOAK_ARGS passes flags to the driver (bench/soak, e.g.
# "--load 20s --crash-handshakes 500 --flood-rates 960"); VERISHAKE=FILE
# soaks that verishake binary instead of building one from this tree (an
# older build, to compare); KEEP=1 keeps the scratch directory (stores and
# the servers' logs).
set -euo pipefail

if [[ -n "${VERISHAKE:-}" && -e "$VERISHAKE" ]]; then
	VERISHAKE=$(realpath -- "$VERISHAKE") # the script moves to the tree's root
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v go >/dev/null; then
	echo "soak: needs the Go toolchain (go.mod's version) on PATH" >&2
	exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/verishake-soak.XXXXXX")
if [[ "${KEEP:-}" == 1 ]]; then
	echo "soak: scratch directory kept: $WORK" >&2
else
	trap 'rm -rf "$WORK"' EXIT
fi

BIN=${VERISHAKE:-}
if [[ -n "$BIN" ]]; then
	if [[ ! -x "$BIN" ]]; then
		echo "soak: VERISHAKE=$BIN is not an executable file" >&2
		exit 2
	fi
	echo "soak: building the driver; soaking $BIN" >&2
else
	echo "soak: building verishake and the driver" >&2
	go build -o "$WORK/verishake" ./cmd/verishake
	BIN=$WORK/verishake
fi
go build -o "$WORK/soak" ./bench/soak
mkdir -p "$WORK/run"
# shellcheck disable=SC2086 # SOAK_ARGS is a list of flags
"$WORK/soak" --verishake "$BIN" --dir "$WORK/run" ${SOAK_ARGS:-}
