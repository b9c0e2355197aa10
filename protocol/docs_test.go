package protocol_test

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/fsm"
	. "github.com/verishake/verishake/protocol"
)

var update = flag.Bool("update", false, "rewrite the generated sections of docs/protocol.md")

const protocolDoc = "../docs/protocol.md"

// TestDocsMatchCode fails when the diagrams, tables and knobs in
// docs/protocol.md drift from the code. Regenerate them with
// `go test ./protocol -run TestDocsMatchCode -update`.
func TestDocsMatchCode(t *testing.T) {
	raw, err := os.ReadFile(protocolDoc)
	require.NoError(t, err)
	doc := string(raw)
	sections := map[string]string{"knobs": knobsTable()}
	for _, p := range []Profile{Patent(), Hardened()} {
		h := p.MustCompile()
		sections["client-"+p.Name] = machineSection(h.ClientMachine())
		sections["server-"+p.Name] = machineSection(h.ServerMachine())
	}
	block := regexp.MustCompile(`(?s)(<!-- generated:begin ([a-z-]+) -->\n).*?(<!-- generated:end -->)`)
	seen := map[string]bool{}
	got := block.ReplaceAllStringFunc(doc, func(m string) string {
		parts := block.FindStringSubmatch(m)
		name := parts[2]
		seen[name] = true
		body, ok := sections[name]
		require.True(t, ok, "docs/protocol.md has a generated section %q the code does not make", name)
		return parts[1] + body + parts[3]
	})
	for name := range sections {
		require.True(t, seen[name], "docs/protocol.md lacks the generated section %q", name)
	}
	if *update {
		require.NoError(t, os.WriteFile(protocolDoc, []byte(got), 0o644))
		return
	}
	require.Equal(t, got, doc, "docs/protocol.md drifted from the code; run go test ./protocol -run TestDocsMatchCode -update")
}

func machineSection[S, E comparable](m *fsm.Machine[S, E]) string {
	var b strings.Builder
	b.WriteString("```mermaid\n" + m.Mermaid(fsm.ExportOptions[S]{}) + "```\n\n")
	b.WriteString("| from | event | to |\n|---|---|---|\n")
	for _, r := range m.Spec().Transitions {
		fmt.Fprintf(&b, "| %v | %v | %v |\n", r.From, r.Event, r.To)
	}
	return b.String()
}

// knobsTable lists every Profile knob for both shipped profiles: every
// field but the name and the hooks, which are code (docs/variants.md).
func knobsTable() string {
	patent, hardened := reflect.ValueOf(Patent()), reflect.ValueOf(Hardened())
	var b strings.Builder
	b.WriteString("| knob | patent | hardened |\n|---|---|---|\n")
	for i := range patent.NumField() {
		f := patent.Type().Field(i)
		if f.Name == "Name" || f.Name == "Hooks" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %v | %v |\n", f.Name, patent.Field(i), hardened.Field(i))
	}
	return b.String()
}
