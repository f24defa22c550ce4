package tencenttest

import (
	"slices"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	lh "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/lighthouse/v20200324"
)

// The address filters of DescribeInstances narrow the list (instance-name,
// the snapshot filters, Offset and Limit are in protocol_test.go); several
// values of one filter are alternatives, several filters must all match.
func TestDescribeInstancesAddressFilters(t *testing.T) {
	e := newEnv(t)
	a := e.instance(Instance{Name: "web", PrivateIP: "10.9.0.1", PublicIP: "198.51.100.1"})
	b := e.instance(Instance{Name: "web", PrivateIP: "10.9.0.2", PublicIP: "198.51.100.2"})
	e.instance(Instance{Name: "db"})
	find := func(fs ...*lh.Filter) []string {
		t.Helper()
		req := lh.NewDescribeInstancesRequest()
		req.Filters = fs
		resp, err := e.sdk.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range resp.Response.InstanceSet {
			ids = append(ids, *in.InstanceId)
		}
		return ids
	}
	f := func(name string, values ...string) *lh.Filter {
		return &lh.Filter{Name: common.StringPtr(name), Values: common.StringPtrs(values)}
	}
	tests := []struct {
		name string
		fs   []*lh.Filter
		want []string
	}{
		{"private IP", []*lh.Filter{f("private-ip-address", "10.9.0.2")}, []string{b.ID}},
		{"public IP, two values", []*lh.Filter{f("public-ip-address", "198.51.100.1", "198.51.100.2")}, []string{a.ID, b.ID}},
		{"public IP and name", []*lh.Filter{f("public-ip-address", "198.51.100.1"), f("instance-name", "web")}, []string{a.ID}},
		{"nobody has it", []*lh.Filter{f("private-ip-address", "10.9.9.9")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := find(tt.fs...); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
