package idset

import (
	"errors"
	"fmt"
	"testing"
)

func TestPrepare(t *testing.T) {
	got, err := Prepare([]string{"a", "b", "a", "c", "b"}, func(string) error { return nil })
	if err != nil || fmt.Sprint(got) != "[a b c]" {
		t.Errorf("Prepare = %v, %v", got, err)
	}
	bad := errors.New("bad")
	if _, err := Prepare([]string{"a", "x"}, func(id string) error {
		if id == "x" {
			return bad
		}
		return nil
	}); err != bad {
		t.Errorf("err = %v", err)
	}
}

func TestChunks(t *testing.T) {
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	c := Chunks(ids, 100)
	if len(c) != 3 || len(c[0]) != 100 || len(c[2]) != 50 || c[2][0] != "200" {
		t.Errorf("chunks %d: %d %d", len(c), len(c[0]), len(c[len(c)-1]))
	}
	if Chunks(nil, 100) != nil {
		t.Error("chunks of nothing")
	}
}
