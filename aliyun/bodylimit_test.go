package aliyun_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/internal/testkit"
	"github.com/cloudsnap/rollback/provider/errmap"
)

// A 50 MB 502 from a gateway: the client reads a bounded prefix, and the
// error's message is cut as on Lighthouse (issue 16 item 8).
func TestHugeErrorBody(t *testing.T) {
	const size = 50 << 20
	url, written := testkit.HugeBody(t, 502, "<html>Bad Gateway "+strings.Repeat("é", 400), size)
	c, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Endpoint: url, AccessKeyID: "AKIDbodylimit", AccessKeySecret: "secretbodylimit"},
		rollback.WithMaxAttempts(1), rollback.WithoutRateLimit())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Instance(context.Background(), "cn-hangzhou", "ace0706b2ac4454d984295a94213ba3b")
	var re *rollback.Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v", err)
	}
	if len(re.Message) > errmap.MaxMessage+3 || !strings.HasPrefix(re.Message, "<html>Bad Gateway") {
		t.Errorf("message of %d bytes: %.80q...", len(re.Message), re.Message)
	}
	if n := len(err.Error()); n > 8<<10 {
		t.Errorf("error text of %d bytes", n)
	}
	if n := written.Load(); n >= size {
		t.Errorf("the whole %d-byte body was read", n)
	}
}
