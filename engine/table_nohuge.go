//go:build unix && !linux

package engine

// adviseHugePages does nothing: only Linux is asked for huge pages.
func adviseHugePages([]byte) {}
