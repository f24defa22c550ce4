module example.com/acmecloud

go 1.24.0

require (
	github.com/cloudsnap/rollback v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	golang.org/x/sys v0.33.0 // indirect
	golang.org/x/term v0.32.0 // indirect
)

replace github.com/cloudsnap/rollback => ../..
