package aliyun

import (
	"strconv"
	"strings"
	"time"

	swas "github.com/aliyun/alibaba-cloud-sdk-go/services/swas-open"

	"github.com/cloudsnap/rollback/provider"
)

// instanceStates maps SWAS instance statuses to normalized states.
var instanceStates = map[string]provider.InstanceState{
	"Pending":   provider.InstancePending,
	"Starting":  provider.InstanceStarting,
	"Running":   provider.InstanceRunning,
	"Stopping":  provider.InstanceStopping,
	"Stopped":   provider.InstanceStopped,
	"Resetting": provider.InstanceRollingBack,
	"Upgrading": provider.InstanceBusy,
	"Disabled":  provider.InstanceUnavailable,
}

// snapshotStates maps SWAS snapshot statuses to normalized states.
var snapshotStates = map[string]provider.SnapshotState{
	"Accomplished": provider.SnapshotReady,
	"Progressing":  provider.SnapshotCreating,
	"Failed":       provider.SnapshotFailed,
}

func instanceState(native string) provider.InstanceState {
	if s, ok := instanceStates[native]; ok {
		return s
	}
	return provider.InstanceUnknown
}

func toInstance(region string, in swas.Instance) *provider.Instance {
	state := instanceState(in.Status)
	out := &provider.Instance{
		Provider:    provider.ProviderAliyun,
		Region:      region,
		ID:          in.InstanceId,
		Name:        in.InstanceName,
		State:       state,
		NativeState: in.Status,
		Busy:        state.Transitional(),
	}
	for _, d := range in.Disks {
		if isSystem(d.DiskType) {
			out.SystemDiskID = d.DiskId
			break
		}
	}
	return out
}

func toSnapshot(region string, s swas.Snapshot) *provider.Snapshot {
	state, ok := snapshotStates[s.Status]
	if !ok {
		state = provider.SnapshotUnknown
	}
	out := &provider.Snapshot{
		Provider:       provider.ProviderAliyun,
		Region:         region,
		ID:             s.SnapshotId,
		Name:           s.SnapshotName,
		DiskID:         s.SourceDiskId,
		InstanceID:     s.InstanceId,
		State:          state,
		NativeState:    s.Status,
		Progress:       progress(s.Progress),
		CreatedAt:      parseTime(s.CreationTime),
		LastRollbackAt: parseTime(s.RollbackTime),
	}
	if state == provider.SnapshotReady && s.Progress == "" {
		out.Progress = 100
	}
	return out
}

func toDisk(region string, d swas.Disk) *provider.Disk {
	return &provider.Disk{
		Provider:    provider.ProviderAliyun,
		Region:      region,
		ID:          d.DiskId,
		InstanceID:  d.InstanceId,
		System:      isSystem(d.DiskType),
		NativeState: d.Status,
		// In_use and Available are at rest; ReIniting, Creating, Attaching
		// and Detaching are not.
		Busy:   d.Status != "" && d.Status != "In_use" && d.Status != "Available",
		SizeGB: d.Size,
	}
}

// isSystem compares case-insensitively: the docs say "system", their
// examples "System".
func isSystem(diskType string) bool { return strings.EqualFold(diskType, "system") }

// progress parses "NN%" (or a bare number), clamped to 0..100.
func progress(s string) int {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return min(max(int(f), 0), 100)
}

// parseTime reads SWAS times ("2021-03-09T07:12:49Z", sometimes without
// seconds); zero when empty or unreadable.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
