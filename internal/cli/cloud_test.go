package cli

import (
	"strings"
	"testing"

	_ "github.com/cloudsnap/rollback/aliyun"
	_ "github.com/cloudsnap/rollback/tencent"
)

func TestCloudURL(t *testing.T) {
	for _, tt := range []struct {
		provider, region, endpoint, profile string
		international                       bool
		want                                string
	}{
		{"tencent", "ap-guangzhou", "", "", false, "tencent://ap-guangzhou"},
		{"tencent", "ap-singapore", "http://127.0.0.1:8080", "ops", true, "tencent://ap-singapore?endpoint=http%3A%2F%2F127.0.0.1%3A8080&international=true&profile=ops"},
		{"aliyun", "cn-hangzhou", "", "", true, "aliyun://cn-hangzhou"}, // -international is Lighthouse's
	} {
		if got := CloudURL(tt.provider, tt.region, tt.endpoint, tt.profile, tt.international); got != tt.want {
			t.Errorf("CloudURL(%q, %q, ...) = %q, want %q", tt.provider, tt.region, got, tt.want)
		}
	}
}

func TestCloudFlags(t *testing.T) {
	var f CloudFlags
	_ = f.Set("tencent://ap-guangzhou?profile=ops")
	_ = f.Set("aliyun://cn-hangzhou")
	m, err := f.ByProvider()
	if err != nil || len(m) != 2 || m["tencent"] != "tencent://ap-guangzhou?profile=ops" || m["aliyun"] != "aliyun://cn-hangzhou" {
		t.Fatalf("ByProvider = %v, %v", m, err)
	}
	const secret = "pa55w0rd"
	for _, tt := range []struct {
		urls []string
		say  string
	}{
		{[]string{"tencent://ap-guangzhou", "tencent://ap-beijing"}, "given twice"},
		{[]string{"tencent:ap-guangzhou"}, "SCHEME://REGION"},
		{[]string{"tencent://ap guangzhou" + secret}, "SCHEME://REGION"},
		{[]string{"tencent://id:" + secret + "@ap-guangzhou"}, "never carries credentials"},
		{[]string{"gcp://us-east1"}, "gcp:// is not a provider this command knows (aliyun, tencent)"},
	} {
		_, err := CloudFlags(tt.urls).ByProvider()
		if _, usage := err.(UsageError); !usage || !strings.Contains(err.Error(), tt.say) || strings.Contains(err.Error(), secret) {
			t.Errorf("%q: %v; want a UsageError saying %q", tt.urls, err, tt.say)
		}
	}
}
