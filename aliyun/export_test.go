package aliyun

// Codes exposes the error table to the external tests, which check that
// every code in it has a test.
var Codes = codes
