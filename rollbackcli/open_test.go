package rollbackcli

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback/tencent/tencenttest"
)

// TestCloudURL checks a rollback through -cloud, the one-URL form of
// -provider, -region and -endpoint: a dry run reads the instance and the
// snapshot from the emulator (real runs are TestRealRunAgainstEmulators';
// the client is the same).
func TestCloudURL(t *testing.T) {
	_, tc := emulators(t)
	in, _ := tc.AddInstance(tencenttest.Instance{State: "STOPPED"})
	sn, _ := tc.AddSnapshot(tencenttest.Snapshot{InstanceID: in.ID})
	cloud := "tencent://ap-guangzhou?endpoint=" + url.QueryEscape(tc.URL)
	code, out, errOut := runCmd(t, "", "-cloud", cloud, "-instance", in.ID, "-snapshot", sn.ID, "-dry-run")
	if code != exitOK || !strings.Contains(out, "Dry run") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if tc.Journal().Count("") == 0 || tc.Rollbacks() != 0 {
		t.Errorf("%d calls, %d rollbacks", tc.Journal().Count(""), tc.Rollbacks())
	}
}

func TestCloudURLRefused(t *testing.T) {
	_, tc := emulators(t)
	const secret = "pa55w0rdInTheURL"
	ids := []string{"-instance", "lhins-12345678", "-snapshot", "lhsnap-12345678", "-yes"}
	for _, tt := range []struct {
		args []string
		say  string
	}{
		{[]string{"-cloud", "tencent://ap-guangzhou", "-region", "ap-beijing"}, "drop -region"},
		{[]string{"-cloud", "tencent://ap-guangzhou", "-provider", "tencent", "-endpoint", tc.URL}, "drop -endpoint, -provider"},
		{[]string{"-cloud", "gcp://us-east1"}, `unknown scheme "gcp" (registered: aliyun, mem, tencent)`},
		{[]string{"-cloud", "tencent://AKIDabc:" + secret + "@ap-guangzhou"}, "never carries credentials"},
		{[]string{"-cloud", "tencent://ap-guangzhou?secret_key=" + secret}, `unknown query parameter "secret_key"`},
		{[]string{"-cloud", "tencent:ap-guangzhou"}, "SCHEME://REGION"},
		{[]string{"-cloud", "aliyun://cn-hangzhou"}, "missing -disk"},
		{[]string{"-provider", "tencent", "-region", "ap guangzhou"}, `Region "ap guangzhou"`},
	} {
		code, out, errOut := runCmd(t, "", append(tt.args, ids...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.say) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want usage saying %q", tt.args, code, out, errOut, tt.say)
		}
		if strings.Contains(errOut, secret) {
			t.Errorf("%v: stderr quotes the secret: %s", tt.args, errOut)
		}
	}
	if n := tc.Journal().Count(""); n != 0 {
		t.Errorf("%d calls sent", n)
	}
}
