// Package temporal runs rollbacks as Temporal workflows.
package temporal
