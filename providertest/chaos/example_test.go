package chaos_test

import (
	"testing"

	"github.com/cloudsnap/rollback/providertest/chaos"
)

// newEnv is a provider's Factory: its client over its own emulator or fake,
// as a chaos.Env (see the Env interface).
var newEnv chaos.Factory

// A provider's own tests run the soak and the matrix. Without Specs every
// cell is judged by the soak's invariants; with them, each is held to its
// expected outcome.
func Example() {
	_ = func(t *testing.T) { // func TestSoak(t *testing.T)
		chaos.Soak(t, newEnv, chaos.SoakConfig{}) // -soak.runs, -soak.seed
	}
	_ = func(t *testing.T) { // func TestFaultMatrix(t *testing.T)
		chaos.Matrix(t, newEnv, chaos.MatrixConfig{Specs: map[string]string{"": `
# call          fault       once    persistent
DescribeDisk    5xx         ok      check:ErrInternal/0
`}})
	}
}
