module github.com/cloudsnap/rollback

go 1.24.0

require (
	github.com/cenkalti/backoff/v4 v4.3.0
	golang.org/x/time v0.14.0
)
