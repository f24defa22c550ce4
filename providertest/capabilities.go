package providertest

import (
	"fmt"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

// capabilities is what a provider declares beyond rollback.Provider's
// methods (provider.Capabilities). A nil field is a capability it lacks:
// the scenarios that test it are skipped.
type capabilities struct {
	name          string
	batch         provider.BatchInspector
	batchSnaps    provider.BatchSnapshotInspector
	disks         provider.DiskInspector
	preflight     provider.PreflightRoller
	validator     provider.RequestValidator
	witness       provider.RollbackWitness
	marker        provider.OperationMarker
	priors        provider.WaitPriors
	checkpointing provider.Checkpointer
}

// capabilitiesOf reads a provider's declared capabilities.
func capabilitiesOf(p rollback.Provider) capabilities {
	d := p.Capabilities()
	c := capabilities{name: d.Name, batch: d.BatchInstances, batchSnaps: d.BatchSnapshots, disks: d.Disks,
		preflight: d.Preflight, validator: d.Validator, witness: d.Witness, marker: d.Marker,
		priors: d.Priors, checkpointing: d.Checkpoints}
	if c.name == "" {
		c.name = fmt.Sprintf("%T", p)
	}
	return c
}
