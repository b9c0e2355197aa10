package models

import (
	"encoding/json"
	"fmt"

	"github.com/verishake/verishake/dist/beam/bfs"
	"github.com/verishake/verishake/examples/nspk"
)

func init() {
	bfs.Register(NSPKModel, func(config []byte) (bfs.Machine, error) {
		var cfg nspk.Config
		if err := json.Unmarshal(config, &cfg); err != nil {
			return bfs.Machine{}, fmt.Errorf("models: nspk configuration: %w", err)
		}
		m, err := nspk.New(cfg)
		if err != nil {
			return bfs.Machine{}, err
		}
		return bfs.Bind(m), nil
	})
}

// NSPKModel is the Needham–Schroeder model's registered name.
const NSPKModel = "nspk"

// NSPKSpec is cfg's model as the workers build it.
func NSPKSpec(cfg nspk.Config) bfs.Spec {
	raw, _ := json.Marshal(cfg)
	return bfs.Spec{Model: NSPKModel, Config: raw}
}
