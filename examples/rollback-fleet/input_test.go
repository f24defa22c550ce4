package main

import (
	"context"
	"strings"
	"testing"
)

func TestBadRowsSendNothing(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 1)
	good := csvOf(servers) // lines 1-3
	input := good + strings.Join([]string{
		"aws,us-east-1,i-1,,snap-1",                                          // 4: unknown provider
		"tencent,,lhins-abc,,lhsnap-abc",                                     // 5: no region
		"tencent,ap-guangzhou,ins-123,,lhsnap-abc",                           // 6: malformed instance
		"aliyun,cn-hangzhou,,,s-abc",                                         // 7: no disk
		"tencent,ap-guangzhou," + servers[1].row.Instance + ",,lhsnap-other", // 8: same instance as line 3
		"tencent,ap-guangzhou,lhins-x1",                                      // 9: too few fields
		",ap-guangzhou,lhins-x2,,lhsnap-x2",                                  // 10: no provider
		"tencent,ap-nowhere,lhins-x3,,lhsnap-x3",                             // 11: region Lighthouse does not serve
	}, "\n") + "\n"
	args := append(endpoints(ali, tc), "-file", writeFile(t, "bad.csv", input), "-key-prefix", "k", "-state-dir", t.TempDir())
	r := fleetCmd(context.Background(), e, "", args...)
	if r.code != exitUsage || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	for _, want := range []string{
		"8 problem(s) in the input; nothing was sent",
		`line 4: provider "aws" is not aliyun or tencent`,
		"line 5: region is empty",
		`line 6: instance "ins-123" is not a Lighthouse instance ID`,
		"line 7: disk is empty",
		"line 8: instance " + servers[1].row.Instance + " is already rolled back by line 3",
		"line 9: 3 fields, but the header has 5",
		"line 10: provider is empty",
		`line 11: region "ap-nowhere"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != exitUsage || !strings.Contains(r.stderr, "fleet -help") {
		t.Errorf("exit %d", r.code)
	}
	nothingSent(t, ali, tc)
}

func TestBadJSON(t *testing.T) {
	tests := []struct {
		name, input string
		say         []string
	}{
		{"not an array", `{"provider":"tencent"}`, []string{"line 1: the JSON input must be an array"}},
		{"unknown field and wrong type", "[\n {\"provider\":\"tencent\",\"region\":\"ap-guangzhou\",\"instance\":\"lhins-a\",\"snapshot\":\"lhsnap-a\"},\n {\"provider\":\"tencent\",\"instnace\":\"lhins-b\"},\n {\"provider\":\"tencent\",\"region\":7}\n]",
			[]string{`line 3: unknown field "instnace"`, "line 4: cannot unmarshal number"}},
		{"syntax", "[\n{\"provider\":\"tencent\",}\n]", []string{"line 2: bad JSON"}},
		{"empty array", "[]", []string{"the input has no rows"}},
	}
	ali, tc, e := clouds(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fleetCmd(context.Background(), e, tt.input, append(endpoints(ali, tc), "-file", "-", "-dry-run")...)
			if r.code != exitUsage {
				t.Errorf("exit %d", r.code)
			}
			for _, want := range tt.say {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
	nothingSent(t, ali, tc)
}

func TestDuplicateKeysAndMissingPrefix(t *testing.T) {
	ali, tc, e := clouds(t)
	input := "provider,region,instance,snapshot,key\n" +
		"tencent,ap-guangzhou,lhins-a1,lhsnap-a1,k1\n" +
		"tencent,ap-guangzhou,lhins-a2,lhsnap-a2,k1\n" +
		"tencent,ap-guangzhou,lhins-a3,lhsnap-a3,\n"
	r := fleetCmd(context.Background(), e, input, append(endpoints(ali, tc), "-file", "-")...)
	for _, want := range []string{`line 3: key "k1" is also the key of line 2`, "line 4 has no key: set -key-prefix"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != exitUsage {
		t.Errorf("exit %d", r.code)
	}
	nothingSent(t, ali, tc)
}

func TestReadRows(t *testing.T) {
	csvIn := "\ufeff# servers to roll back\nProvider, Region, Snapshot, Instance\ntencent, ap-guangzhou, lhsnap-1, lhins-1\n\n\"tencent\",ap-guangzhou,lhsnap-2,lhins-2\n"
	rows, err := readRows("stdin", "auto", strings.NewReader(csvIn))
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{Line: 3, Provider: "tencent", Region: "ap-guangzhou", Instance: "lhins-1", Snapshot: "lhsnap-1"},
		{Line: 5, Provider: "tencent", Region: "ap-guangzhou", Instance: "lhins-2", Snapshot: "lhsnap-2"}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("rows %+v", rows)
	}
	for name, want := range map[string]string{"a.json": "json", "a.CSV": "csv", "-": "csv"} {
		if got := detectFormat(name, []byte("provider")); got != want {
			t.Errorf("%s: %s", name, got)
		}
	}
	if got := detectFormat("-", []byte(" \n[")); got != "json" {
		t.Errorf("sniffed %s", got)
	}
	for _, bad := range []string{"", "provider,region\n", "provider,region,snapshot,zone\n", "provider,provider,region,snapshot\n"} {
		if _, err := readRows("x.csv", "auto", strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		say  string
	}{
		{nil, "missing -file"},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-file", "x.csv", "extra"}, `unexpected argument "extra"`},
		{[]string{"-file", "x.csv", "-concurrency", "0"}, "-concurrency must be at least 1"},
		{[]string{"-file", "x.csv", "-format", "xml"}, "-format must be csv, json or auto"},
		{[]string{"-demo", "-file", "x.csv"}, "drop -file"},
		{[]string{"-file", "/nonexistent/rows.csv"}, "no such file"},
	}
	for _, tt := range tests {
		r := fleetCmd(context.Background(), env{}, "", tt.args...)
		if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tt.say) || !strings.Contains(r.stderr, "-help") {
			t.Errorf("%v: exit %d, stderr %q", tt.args, r.code, r.stderr)
		}
	}
	r := fleetCmd(context.Background(), env{}, "", "-help")
	if r.code != exitOK || !strings.Contains(r.stderr, "Exit codes") || !strings.Contains(r.stderr, "most severe") {
		t.Errorf("-help: exit %d\n%s", r.code, r.stderr)
	}
}

func TestMissingCredentials(t *testing.T) {
	ali, tc, e := clouds(t)
	t.Setenv("TENCENTCLOUD_SECRET_ID", "")
	t.Setenv("TENCENTCLOUD_SECRET_KEY", "")
	r := fleetCmd(context.Background(), e, "provider,region,instance,snapshot\ntencent,ap-guangzhou,lhins-1,lhsnap-1\n",
		append(endpoints(ali, tc), "-file", "-", "-key-prefix", "k")...)
	if r.code != exitAuth || !strings.Contains(r.stderr, "TENCENTCLOUD_SECRET_ID") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	nothingSent(t, ali, tc)
}
