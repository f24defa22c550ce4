// Package bench holds the library's performance benchmarks and the tests
// that hold it to its targets (issue 7, items 1 to 3). Every comparison runs
// side by side in one process against the same local emulator and reports
// ratios, not just absolute times; see BENCHMARKS.md at the repository root
// for the results and the commands that produced them.
//
//	go test -run=^$ -bench=. -benchmem ./internal/bench   # benchmarks
//	go test ./internal/bench                              # the targets, as tests
package bench
