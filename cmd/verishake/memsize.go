package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/verishake/verishake/internal/verifier"
)

// sizeUnits are the suffixes parseSize accepts: binary (KiB) and decimal (KB).
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
}

// parseSize reads a size such as 512MiB, 8GiB, 1.5G or 1000000 (bytes).
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*float64(mult) >= 1<<62 || num != strings.TrimLeft(num, "+") {
		return 0, fmt.Errorf("%q: want a size such as 512MiB, 8GiB or a number of bytes", s)
	}
	return int64(v * float64(mult)), nil
}

// fallbackMemoryBudget is check's budget where physical memory is unknown.
const fallbackMemoryBudget = 4 << 30

// defaultMemoryBudget is half the machine's physical memory, read from
// /proc/meminfo, or fallbackMemoryBudget: half leaves the rest of the
// machine, and the garbage collector's slack, room.
func defaultMemoryBudget() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallbackMemoryBudget
	}
	defer f.Close()
	if total, ok := memTotal(f); ok {
		return total / 2
	}
	return fallbackMemoryBudget
}

// memTotal reads MemTotal (in kB) from a /proc/meminfo.
func memTotal(r io.Reader) (int64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0, false
			}
			return kb << 10, true
		}
	}
	return 0, false
}

// searchBudget is the share of check's --memory the search may hold as
// the engine counts it (engine.Config.MemoryBudget). The rest is for what
// the engine does not count, so that the process's peak RSS stays within
// --memory: the program and the Go runtime (about 18 MiB) and the garbage
// collector's slack over the buffers of the part of a level being
// expanded (a part gathers at most an eighth of the engine's budget, 32
// MiB). Under about 64 MiB the program alone takes much of --memory, and
// the search gets a quarter of it.
func searchBudget(budget int64) int64 {
	if budget <= 0 {
		return budget
	}
	return max(budget-(24<<20+min(budget/4, 64<<20)), budget/4)
}

// formatSize is the verifier's, which parseSize reads back.
var formatSize = verifier.FormatSize
