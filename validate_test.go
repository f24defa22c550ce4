package rollback_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/provider"
)

var lighthouseRules = provider.RequestRules{
	Provider: "tencent",
	Instance: provider.IDRule{Prefix: "lhins-", Kind: "a Lighthouse instance ID (lhins-...)", Required: true},
	Disk:     provider.IDRule{Prefix: "lhdisk-", Kind: "a Lighthouse disk ID (lhdisk-...)"},
	Snapshot: provider.IDRule{Prefix: "lhsnap-", Kind: "a Lighthouse snapshot ID (lhsnap-...)", Required: true},
}

func TestRequestRulesCheck(t *testing.T) {
	good := rollback.Request{Region: "ap-guangzhou", InstanceID: "lhins-abc12345", SnapshotID: "lhsnap-abc12345"}
	tests := []struct {
		name  string
		edit  func(*rollback.Request)
		field string
		say   string
	}{
		{"ok", func(*rollback.Request) {}, "", ""},
		{"ok with disk", func(r *rollback.Request) { r.DiskID = "lhdisk-1" }, "", ""},
		{"missing region", func(r *rollback.Request) { r.Region = "" }, "Region", "Region is empty"},
		{"upper-case region", func(r *rollback.Request) { r.Region = "AP-Guangzhou" }, "Region", "lower-case letters"},
		{"missing instance", func(r *rollback.Request) { r.InstanceID = "" }, "InstanceID", "InstanceID is empty; it must be a Lighthouse instance ID"},
		{"wrong instance prefix", func(r *rollback.Request) { r.InstanceID = "ins-1" }, "InstanceID", `InstanceID "ins-1" is not a Lighthouse instance ID`},
		{"bare prefix", func(r *rollback.Request) { r.InstanceID = "lhins-" }, "InstanceID", "expected \"lhins-\" followed by the ID"},
		{"missing snapshot", func(r *rollback.Request) { r.SnapshotID = "" }, "SnapshotID", "SnapshotID is empty"},
		{"snapshot with slash", func(r *rollback.Request) { r.SnapshotID = "lhsnap-a/../b" }, "SnapshotID", `'/' at byte 8`},
		{"control char", func(r *rollback.Request) { r.SnapshotID = "lhsnap-a\nb" }, "SnapshotID", "control character U+000A"},
		{"over-long", func(r *rollback.Request) { r.SnapshotID = "lhsnap-" + strings.Repeat("a", 200) }, "SnapshotID", "the limit is 128"},
		{"wrong disk", func(r *rollback.Request) { r.DiskID = "d-1" }, "DiskID", "not a Lighthouse disk ID"},
		{"bad token", func(r *rollback.Request) { r.ClientToken = strings.Repeat("t", 65) }, "ClientToken", "the limit is 64"},
		{"non-ASCII token", func(r *rollback.Request) { r.ClientToken = "tök" }, "ClientToken", "non-ASCII"},
		{"bad key", func(r *rollback.Request) { r.OperationKey = "a\x00b" }, "OperationKey", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := good
			tt.edit(&req)
			err := lighthouseRules.Check("ApplyInstanceSnapshot", req)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var re *rollback.Error
			if !errors.As(err, &re) || !errors.Is(err, rollback.ErrInvalidArgument) {
				t.Fatalf("Check = %v, want *Error with ErrInvalidArgument", err)
			}
			if re.Field != tt.field || re.Provider != "tencent" || re.Op != "ApplyInstanceSnapshot" {
				t.Errorf("Field/Provider/Op = %q/%q/%q", re.Field, re.Provider, re.Op)
			}
			if !strings.Contains(err.Error(), tt.say) {
				t.Errorf("Error() = %q\nwant it to say %q", err, tt.say)
			}
		})
	}
}

func TestSingleFieldChecks(t *testing.T) {
	if err := lighthouseRules.CheckInstance("StopInstances", "ap-guangzhou", "lhins-1"); err != nil {
		t.Error(err)
	}
	if err := lighthouseRules.CheckInstance("StopInstances", "", "lhins-1"); !errors.Is(err, rollback.ErrInvalidArgument) {
		t.Errorf("missing region: %v", err)
	}
	if err := lighthouseRules.CheckSnapshot("DescribeSnapshots", "ap-guangzhou", ""); err == nil || !strings.Contains(err.Error(), "SnapshotID is empty") {
		t.Errorf("missing snapshot: %v", err)
	}
	// The disk is optional in a Request but required when it is the subject.
	if err := lighthouseRules.CheckDisk("DescribeDisks", "ap-guangzhou", ""); err == nil {
		t.Error("empty disk accepted by CheckDisk")
	}
	var re *rollback.Error
	if err := lighthouseRules.CheckDisk("DescribeDisks", "ap-guangzhou", "x"); !errors.As(err, &re) || re.Op != "DescribeDisks" {
		t.Errorf("op not set: %v", err)
	}
}

func FuzzRequestRulesCheck(f *testing.F) {
	f.Add("ap-guangzhou", "lhins-abc", "lhsnap-abc", "", "")
	f.Add("", "", "", "", "")
	f.Add("ap-\x00", "lhins-\xff", "lhsnap-é", "lhdisk-1", "tok en")
	f.Fuzz(func(t *testing.T, region, inst, snap, disk, token string) {
		req := rollback.Request{Region: region, InstanceID: inst, SnapshotID: snap, DiskID: disk, ClientToken: token}
		err := lighthouseRules.Check("ApplyInstanceSnapshot", req)
		if err == nil {
			// Whatever passes is safe to put on the wire: IDs and regions
			// are plain words; tokens are printable ASCII (the SDKs encode
			// them).
			for _, v := range []string{region, inst, snap, disk} {
				if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n\t /?#&=%") {
					t.Fatalf("accepted unsafe value %q", v)
				}
			}
			for i := 0; i < len(token); i++ {
				if token[i] <= ' ' || token[i] > '~' {
					t.Fatalf("accepted token %q", token)
				}
			}
			if !strings.HasPrefix(inst, "lhins-") || !strings.HasPrefix(snap, "lhsnap-") {
				t.Fatalf("accepted wrong prefixes %q %q", inst, snap)
			}
			return
		}
		if !errors.Is(err, rollback.ErrInvalidArgument) {
			t.Fatalf("wrong sentinel: %v", err)
		}
		if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\r\n") {
			t.Fatalf("message is not one clean line: %q", msg)
		}
	})
}
