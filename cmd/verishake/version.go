package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	register(command{
		name:    "version",
		usage:   "",
		summary: "print verishake's version, its commit and the Go toolchain that built it",
		run:     runVersion,
	})
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", stderr)
	if status, ok := parseFlags(fs, args, 0, stderr); !ok {
		return status
	}
	fmt.Fprintln(stdout, versionLine())
	return exitOK
}

// versionLine is "verishake VERSION (commit REV[, modified]) GO": the module
// version when installed with go install, else the VCS stamp of the build.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "verishake (unknown version: built without module information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	line := "verishake " + version
	if rev != "" {
		line += fmt.Sprintf(" (commit %.12s%s)", rev, modified)
	}
	return line + " " + info.GoVersion
}
