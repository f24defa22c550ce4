package aliyun_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/aliyun"
	"github.com/cloudsnap/rollback/aliyun/aliyuntest"
)

// A keyed Run without a checkpoint reads the disk's tags once: the
// reading that found no mark serves the prune before marking.
func TestKeyedRunListsTagsOnce(t *testing.T) {
	e := newEnv(t, nil)
	r := e.request()
	r.OperationKey = "ticket-1"
	if _, err := rollback.Run(e.ctx, e.c, r, rollback.RunOptions{Clock: e.clk}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.entries(aliyuntest.ActionListTagResources)); n != 1 {
		t.Errorf("ListTagResources sent %d times, want 1", n)
	}
	if n := len(e.entries(aliyuntest.ActionTagResources)); n != 1 {
		t.Errorf("TagResources sent %d times, want 1", n)
	}
}

// Marks pruned from OperationMark's reading still keep a disk at MaxMarks:
// the oldest go.
func TestMarksPrunedFromTheReading(t *testing.T) {
	e := newEnv(t, nil)
	req := e.request()
	before := &rollback.Snapshot{ID: e.snap.ID, DiskID: e.in.SystemDiskID}
	n := aliyun.MaxMarks + 3
	for i := range n {
		key := fmt.Sprintf("op-%d", i)
		if m, err := e.c.OperationMark(e.ctx, req, key); err != nil || m != nil {
			t.Fatalf("mark of %s before marking: %+v, %v", key, m, err)
		}
		if err := e.c.MarkOperation(e.ctx, req, key, before); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Second)
	}
	if got := len(e.entries(aliyuntest.ActionListTagResources)); got != n {
		t.Errorf("ListTagResources sent %d times for %d marks, want one each", got, n)
	}
	kept := 0
	for i := range n {
		m, err := e.c.OperationMark(e.ctx, req, fmt.Sprintf("op-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			kept++
		} else if i >= n-aliyun.MaxMarks {
			t.Errorf("the mark of op-%d, one of the newest, was pruned", i)
		}
	}
	if kept != aliyun.MaxMarks {
		t.Errorf("%d marks kept, want %d", kept, aliyun.MaxMarks)
	}
}
