// Command walkgen writes sim/encoding_gen.go from the codec's methods in
// sim/encoding.go and sim/encoding_walk.go. Run it through go generate in
// package sim's directory.
package main

import (
	"fmt"
	"os"

	"github.com/verishake/verishake/sim/internal/walkgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	sources := map[string][]byte{}
	for _, name := range walkgen.Sources {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("walkgen: %w (run it in package sim's directory, through go generate)", err)
		}
		sources[name] = b
	}
	out, err := walkgen.Generate(sources)
	if err != nil {
		return err
	}
	return os.WriteFile(walkgen.Output, out, 0o644)
}
