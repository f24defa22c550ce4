//go:build rollbackopen

// This file is ready for the URL registry (provider.Register, on main
// since this branch began): delete the build constraint above, and
// importing this package makes "acme://REGION" URLs work with
// rollback.Open.

package acme

import "github.com/cloudsnap/rollback/provider"

func init() { provider.Register(Scheme, Open) }
