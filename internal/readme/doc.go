// Package readme holds the test that compiles README.md's Go snippets, so
// that they cannot rot. It has no code of its own.
package readme
