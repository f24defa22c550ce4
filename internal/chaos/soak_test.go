package chaos

import (
	"fmt"
	"testing"

	"github.com/cloudsnap/rollback"
	pchaos "github.com/cloudsnap/rollback/providertest/chaos"
)

// The chaos soak (pchaos.Soak) on both clouds at once: -soak.runs Run
// executions in all, half on each, with the sequential and batch workers
// split between them. Everything random comes from -soak.seed, and each
// unit draws from its own stream, so a failure names its cloud, its unit
// and the flags that replay it alone.
//
//	go test -race -run Soak -v ./internal/chaos                      # CI: 2,000 runs
//	go test -race -run Soak -v -timeout 30m ./internal/chaos -soak.runs=20000
//	CHAOS_SOAK_RUNS=20000 go test -race -run Soak -v -timeout 30m ./internal/chaos
//	go test -race -run 'Soak/tencent' -v ./internal/chaos -soak.seed=7 -soak.only=123  # replay
func TestSoak(t *testing.T) {
	all := pchaos.SoakFlags()
	for _, provider := range []string{rollback.ProviderAliyun, rollback.ProviderTencent} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			cfg := all
			cfg.Runs = max(all.Runs/2, 1)
			cfg.Workers = max(all.Workers/2, 1)
			cfg.BatchWorkers = max(all.BatchWorkers/2, 1)
			cfg.Replay = fmt.Sprintf("go test -race -run 'Soak/%s' -v ./internal/chaos -soak.seed=%d -soak.runs=%d", provider, all.Seed, all.Runs)
			pchaos.Soak(t, Factory(provider), cfg)
		})
	}
}
