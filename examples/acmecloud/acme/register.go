//go:build rollbackopen

// This file is ready for rollback.Register (branch open, the URL opener):
// once it has landed, delete the build constraint above, and importing
// this package makes "acme://REGION" URLs work with rollback.Open.

package acme

import "github.com/cloudsnap/rollback"

func init() { rollback.Register(Scheme, Open) }
