package providertest

import (
	"fmt"

	"github.com/cloudsnap/rollback"
)

// capabilities is what a provider offers beyond rollback.Provider. A nil
// field is a capability it lacks: the scenarios that test it are skipped.
type capabilities struct {
	name          string
	batch         rollback.BatchInspector
	batchSnaps    rollback.BatchSnapshotInspector
	disks         rollback.DiskInspector
	preflight     rollback.PreflightRoller
	validator     rollback.RequestValidator
	witness       rollback.RollbackWitness
	marker        rollback.OperationMarker
	priors        rollback.WaitPriors
	checkpointing rollback.CheckpointHolder
}

// capabilitiesOf is the one place that discovers a provider's
// capabilities, so that the way a provider declares them can change here
// alone.
func capabilitiesOf(p rollback.Provider) capabilities {
	c := capabilities{name: fmt.Sprintf("%T", p)}
	if n, ok := p.(rollback.Namer); ok {
		c.name = n.Name()
	}
	c.batch, _ = p.(rollback.BatchInspector)
	c.batchSnaps, _ = p.(rollback.BatchSnapshotInspector)
	c.disks, _ = p.(rollback.DiskInspector)
	c.preflight, _ = p.(rollback.PreflightRoller)
	c.validator, _ = p.(rollback.RequestValidator)
	c.witness, _ = p.(rollback.RollbackWitness)
	c.marker, _ = p.(rollback.OperationMarker)
	c.priors, _ = p.(rollback.WaitPriors)
	c.checkpointing, _ = p.(rollback.CheckpointHolder)
	return c
}
