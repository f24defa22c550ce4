package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	_ "github.com/cloudsnap/rollback/memprovider" // registers mem://
)

// TestCloudURLs opens both clients from -cloud URLs: a dry run reads
// every row from the emulators.
func TestCloudURLs(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 2)
	args := []string{"-cloud", "aliyun://cn-hangzhou?static_only=true&endpoint=" + url.QueryEscape(ali.URL),
		"-cloud", "tencent://ap-guangzhou?endpoint=" + tc.URL,
		"-file", writeFile(t, "s.csv", csvOf(servers)), "-stop", "-dry-run"}
	r := fleetCmd(context.Background(), e, "", args...)
	if r.code != exitOK || !strings.Contains(r.stderr, "Dry run: checking 4 disks") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if ali.Rollbacks()+tc.Rollbacks() != 0 || tc.Journal().Count("") == 0 || ali.Journal().Count("") == 0 {
		t.Errorf("%d SWAS and %d Lighthouse calls, %d rollbacks", ali.Journal().Count(""), tc.Journal().Count(""), ali.Rollbacks()+tc.Rollbacks())
	}
}

// TestAnyRegisteredScheme: rows of a provider the command names nowhere
// (memprovider, registered by this test's import) are checked and
// planned like the clouds' own.
func TestAnyRegisteredScheme(t *testing.T) {
	_, _, e := clouds(t)
	rows := "provider,region,instance,disk,snapshot\n" +
		"mem,eu-1,ins-000001,disk-000001,snap-000002\n" +
		"mem,eu-1,ins-000003,disk-000003,snap-000004\n"
	args := []string{"-cloud", "mem://eu-1?servers=2", "-file", writeFile(t, "m.csv", rows), "-dry-run"}
	r := fleetCmd(context.Background(), e, "", args...)
	if r.code != exitOK || !strings.Contains(r.stderr, "Dry run: checking 2 disks") || !strings.Contains(r.stderr, "mem         2 in eu-1") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestCloudURLsRefused(t *testing.T) {
	ali, tc, e := clouds(t)
	servers := seed(t, ali, tc, 2)
	file := writeFile(t, "s.csv", csvOf(servers))
	const secret = "pa55w0rdInTheURL"
	for _, tt := range []struct {
		args []string
		say  string
	}{
		{[]string{"-cloud", "tencent://AKIDabc:" + secret + "@ap-guangzhou"}, "never carries credentials"},
		{[]string{"-cloud", "tencent://ap-guangzhou", "-cloud", "tencent://ap-beijing"}, "tencent:// is given twice"},
		{[]string{"-cloud", "gcp://us-east1"}, "gcp:// is not a provider this command knows (aliyun, "},
		{[]string{"-cloud", "tencent:ap-guangzhou"}, "SCHEME://REGION"},
		{[]string{"-cloud", "tencent://ap-guangzhou", "-tencent-endpoint", tc.URL}, "set the endpoint in the URL"},
		{[]string{"-cloud", "tencent://ap-guangzhou?secret_key=" + secret}, `unknown query parameter "secret_key"`},
		{[]string{"-cloud", "aliyun://cn-hangzhou:80"}, "no port"},
	} {
		r := fleetCmd(context.Background(), e, "", append(tt.args, "-file", file, "-dry-run")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.say) {
			t.Errorf("%v: exit %d, stderr %q; want usage saying %q", tt.args, r.code, r.stderr, tt.say)
		}
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Errorf("%v: the output quotes the secret", tt.args)
		}
	}
	nothingSent(t, ali, tc)
}
