package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/verishake/verishake/engine"
	"github.com/verishake/verishake/sim/explore"
)

// checkIdentity is what a checkpoint of `check` records of its flags:
// those that change the search (not --workers, --cex, --json or where the
// files go). A resume with other values is refused.
type checkIdentity struct {
	Profile      string `json:"profile"`
	Variant      string `json:"variant"`
	Bounds       bounds `json:"bounds"`
	Adversary    string `json:"adversary"`
	Agree        bool   `json:"agree"`
	Symmetry     bool   `json:"symmetry"`
	RenameTokens bool   `json:"rename_tokens"`
	MaxStates    int    `json:"max_states"`
	Memory       int64  `json:"memory"`
}

func (j checkJob) identity() checkIdentity {
	return checkIdentity{Profile: j.profile.Name, Variant: j.variant, Bounds: j.b, Adversary: j.caps.String(),
		Agree: j.agree, Symmetry: j.symmetry, RenameTokens: j.rename, MaxStates: j.maxStates, Memory: j.memory}
}

// String is the identity as the checkpoint keeps it.
func (id checkIdentity) String() string {
	raw, _ := json.Marshal(id)
	return "verishake check " + string(raw)
}

// identityFlags names each flag of an identity and reads its value.
var identityFlags = []struct {
	flag  string
	value func(checkIdentity) string
}{
	{"--profile", func(id checkIdentity) string { return id.Profile }},
	{"--variant", func(id checkIdentity) string { return id.Variant }},
	{"--clients", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Clients) }},
	{"--sessions", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Sessions) }},
	{"--losses", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Losses) }},
	{"--dups", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Dups) }},
	{"--injects", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Injects) }},
	{"--retries", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Retries) }},
	{"--retransmits", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Retransmits) }},
	{"--commands", func(id checkIdentity) string { return strconv.Itoa(id.Bounds.Commands) }},
	{"--adversary", func(id checkIdentity) string { return id.Adversary }},
	{"--agree", func(id checkIdentity) string { return strconv.FormatBool(id.Agree) }},
	{"--symmetry", func(id checkIdentity) string { return strconv.FormatBool(id.Symmetry) }},
	{"--rename-tokens", func(id checkIdentity) string { return strconv.FormatBool(id.RenameTokens) }},
	{"--max-states", func(id checkIdentity) string { return strconv.Itoa(id.MaxStates) }},
	{"--memory", func(id checkIdentity) string {
		return formatSize(id.Memory) + " (" + strconv.FormatInt(id.Memory, 10) + " bytes)"
	}},
}

// matchCheckpoint refuses to resume the checkpoint in dir with flags
// other than those it was made with, naming each difference.
func (j checkJob) matchCheckpoint(dir string) (engine.CheckpointInfo, error) {
	info, err := explore.ReadCheckpoint(dir)
	if err != nil {
		return info, err
	}
	var was checkIdentity
	raw, ok := strings.CutPrefix(info.Identity, "verishake check ")
	if !ok || json.Unmarshal([]byte(raw), &was) != nil {
		return info, fmt.Errorf("not a checkpoint of verishake check")
	}
	now := j.identity()
	var diffs []string
	for _, f := range identityFlags {
		if a, b := f.value(was), f.value(now); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s, not %s", f.flag, a, b))
		}
	}
	if len(diffs) > 0 {
		return info, fmt.Errorf("the checkpoint was made with %s", strings.Join(diffs, "; "))
	}
	return info, nil
}
