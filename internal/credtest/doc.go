// Package credtest proves the credential chains end to end over the
// emulators: whole fleets on fast clocks outlive their one-hour credentials
// with no authentication error, and no credential value from any source
// reaches a log line, an error or a report. It holds only tests.
package credtest
