// Importing this package makes "acme://REGION" URLs work with
// rollback.Open.

package acme

import "github.com/cloudsnap/rollback/provider"

func init() { provider.Register(Scheme, Open) }
