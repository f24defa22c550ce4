//go:build !unix

package otel_test

import "time"

// cpuNow is not measured here: CPU metrics read 0.
func cpuNow() time.Duration { return 0 }
