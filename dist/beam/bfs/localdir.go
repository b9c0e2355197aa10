package bfs

import (
	"os"
	"strings"
)

// removeLocalDir removes a search's directory on a local disk: its files
// are removed one by one on any filesystem, its directories only here.
func removeLocalDir(dir string) {
	if !strings.Contains(dir, "://") {
		os.RemoveAll(dir)
	}
}
