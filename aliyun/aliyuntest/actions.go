package aliyuntest

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudsnap/rollback/emulator"
)

// handler runs one action under the state lock with the state settled to
// c.now. It sets c.applied when it changes state.
type handler func(s *Server, c *call) (any, *apiError)

var handlers = map[string]handler{
	ActionResetDisk:          (*Server).resetDisk,
	ActionListInstances:      (*Server).listInstances,
	ActionListInstanceStatus: (*Server).listInstanceStatus,
	ActionListDisks:          (*Server).listDisks,
	ActionListSnapshots:      (*Server).listSnapshots,
	ActionStopInstance:       (*Server).stopInstance,
	ActionStartInstance:      (*Server).startInstance,
	ActionCreateSnapshot:     (*Server).createSnapshot,
	ActionDeleteSnapshot:     (*Server).deleteSnapshot,
	ActionTagResources:       (*Server).tagResources,
	ActionListTagResources:   (*Server).listTagResources,
	ActionUntagResources:     (*Server).untagResources,
}

type requestIDOnly struct{ RequestId string }

func (s *Server) resetDisk(c *call) (any, *apiError) {
	diskID, snapID := c.params["DiskId"], c.params["SnapshotId"]
	if diskID == "" {
		return nil, missingAction("DiskId")
	}
	if snapID == "" {
		return nil, missingAction("SnapshotId")
	}
	st := s.state
	d := st.disk(c.region, diskID)
	if d == nil {
		return nil, errorFor("InvalidDiskId.NotFound")
	}
	sn := st.snapshot(c.region, snapID)
	if sn == nil {
		return nil, errorFor("InvalidSnapshotId.NotFound")
	}
	if sn.diskID != d.id {
		return nil, errorWithMessage("InvalidSnapshotId.DiskMismatch",
			fmt.Sprintf("The snapshot %s was taken from disk %s, not %s.", sn.id, sn.diskID, d.id))
	}
	if sn.status != SnapshotAccomplished {
		return nil, errorWithMessage("InvalidSnapshotId.NotReady",
			fmt.Sprintf("The snapshot %s is %s, not Accomplished.", sn.id, sn.status))
	}
	in := st.instances[d.instanceID]
	if in == nil || in.status != StatusStopped {
		return nil, errorFor("IncorrectInstanceStatus.ResetDisk")
	}
	fail := st.failRollbacks > 0
	if fail {
		st.failRollbacks--
	}
	in.status, d.status = StatusResetting, DiskReIniting
	in.trans = &transition{until: c.now.Add(s.durations.Rollback), finish: func(at time.Time) {
		in.status, d.status = StatusStopped, DiskInUse
		if !fail {
			sn.rollbackTime = at
		}
	}}
	st.rollbacks++
	st.rollbacksByDisk[d.id]++
	c.applied = true
	return requestIDOnly{c.requestID}, nil
}

func (s *Server) stopInstance(c *call) (any, *apiError) {
	return s.transition(c, ActionStopInstance, StatusRunning, StatusStopping, StatusStopped, s.durations.Stop)
}

func (s *Server) startInstance(c *call) (any, *apiError) {
	return s.transition(c, ActionStartInstance, StatusStopped, StatusStarting, StatusRunning, s.durations.Start)
}

// transition moves an instance from one stable state through a
// transitional one to another.
func (s *Server) transition(c *call, action, from, via, to string, d time.Duration) (any, *apiError) {
	id := c.params["InstanceId"]
	if id == "" {
		return nil, missingAction("InstanceId")
	}
	in := s.state.instance(c.region, id)
	if in == nil {
		return nil, errorFor("InvalidInstanceId.NotFound")
	}
	if in.status != from {
		return nil, errorWithMessage("IncorrectInstanceStatus",
			fmt.Sprintf("The instance is %s; %s requires it to be %s.", in.status, action, from))
	}
	in.status = via
	in.trans = &transition{until: c.now.Add(d), finish: func(time.Time) { in.status = to }}
	c.applied = true
	return requestIDOnly{c.requestID}, nil
}

type createSnapshotReply struct {
	RequestId  string
	SnapshotId string
}

func (s *Server) createSnapshot(c *call) (any, *apiError) {
	diskID, name := c.params["DiskId"], c.params["SnapshotName"]
	if diskID == "" {
		return nil, missingAction("DiskId")
	}
	if name == "" {
		return nil, missingAction("SnapshotName")
	}
	if n := utf8.RuneCountInString(name); n < 2 || n > 50 || strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		return nil, invalidParam("SnapshotName", "it must be 2 to 50 characters and must not start with http:// or https://.")
	}
	st := s.state
	d := st.disk(c.region, diskID)
	if d == nil {
		return nil, errorFor("InvalidDiskId.NotFound")
	}
	in := st.instances[d.instanceID]
	if in == nil || (in.status != StatusRunning && in.status != StatusStopped) {
		return nil, errorWithMessage("IncorrectInstanceStatus",
			"A snapshot can be created only while the instance is Running or Stopped.")
	}
	if s.quota >= 0 && st.snapshotsOf(in.id) >= s.quota {
		return nil, errorWithMessage("QuotaExceed.Snapshot",
			fmt.Sprintf("The server %s already has %d snapshots, the most allowed.", in.id, s.quota))
	}
	sn := &snapshot{
		seq: st.next(), id: emulator.ResourceID("s-", 20), region: c.region, name: name,
		diskID: d.id, system: d.system, instanceID: d.instanceID,
		status: SnapshotProgressing, created: c.now, done: c.now.Add(s.durations.CreateSnapshot),
	}
	st.snapshots[sn.id] = sn
	c.applied = true
	return createSnapshotReply{RequestId: c.requestID, SnapshotId: sn.id}, nil
}

func (s *Server) deleteSnapshot(c *call) (any, *apiError) {
	id := c.params["SnapshotId"]
	if id == "" {
		return nil, missingAction("SnapshotId")
	}
	sn := s.state.snapshot(c.region, id)
	if sn == nil {
		return nil, errorFor("InvalidSnapshotId.NotFound")
	}
	if sn.status == SnapshotProgressing {
		return nil, errorWithMessage("IncorrectSnapshotStatus", "The snapshot is still being created.")
	}
	delete(s.state.snapshots, id)
	delete(s.state.tags, "snapshot/"+id)
	c.applied = true
	return requestIDOnly{c.requestID}, nil
}

// Response shapes: flat JSON arrays, as the SDK expects.

// instanceJSON has every field of the SDK's swas_open.Instance.
type instanceJSON struct {
	InstanceId            string
	InstanceName          string
	Status                string
	RegionId              string
	CreationTime          string
	ExpiredTime           string
	ChargeType            string
	PlanId                string
	PlanType              string
	ImageId               string
	BusinessStatus        string
	DdosStatus            string
	PublicIpAddress       string
	InnerIpAddress        string
	DisableReason         string `json:",omitempty"`
	Combination           bool
	CombinationInstanceId string
	Uuid                  string
	ResourceGroupId       string
	ResourceSpec          resourceSpecJSON
	Image                 imageJSON
	Disks                 []diskJSON
	NetworkAttributes     []networkJSON
	Tags                  []tagPair
}

type resourceSpecJSON struct {
	DiskCategory string
	Cpu          int
	Bandwidth    int
	DiskSize     int
	Memory       string
	Flow         string
}

type imageJSON struct {
	ImageId, ImageName, ImageType, ImageVersion string
	OsType, Platform, Description               string
	ImageIconUrl, ImageContact                  string
}

type networkJSON struct {
	PublicIpAddress    string
	PrivateIpAddress   string
	PeakBandwidth      int
	PublicIpDdosStatus string
}

type diskJSON struct {
	DiskId          string
	DiskName        string
	DiskType        string
	Category        string
	Device          string
	Size            int
	Status          string
	InstanceId      string
	InstanceName    string
	RegionId        string
	CreationTime    string
	DiskChargeType  string
	ResourceGroupId string
	Remark          string
	Tags            []tagPair
	DiskTags        []tagPair
}

type snapshotJSON struct {
	SnapshotId      string
	SnapshotName    string
	Status          string
	Progress        string
	SourceDiskId    string
	SourceDiskType  string
	InstanceId      string `json:",omitempty"`
	RegionId        string
	CreationTime    string
	RollbackTime    string `json:",omitempty"`
	Remark          string
	ResourceGroupId string
	Tags            []tagPair
}

type statusJSON struct {
	InstanceId string
	Status     string
}

func idSet(ids []string) map[string]bool {
	if ids == nil {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// paged cuts items to the requested page and wraps them with the paging
// fields under the name the SDK expects (Instances, Disks, ...).
func paged[T any](c *call, field string, items []T) (any, *apiError) {
	size, number, err := page(c.params)
	if err != nil {
		return nil, err
	}
	lo, hi := window(len(items), size, number)
	out := items[lo:hi]
	if out == nil {
		out = []T{}
	}
	return map[string]any{
		"RequestId":  c.requestID,
		"TotalCount": len(items),
		"PageSize":   size,
		"PageNumber": number,
		field:        out,
	}, nil
}

// listParams are the parameters each list action takes besides paging;
// anything else is refused (InvalidParameter), never silently ignored, so a
// filter the emulator does not know cannot pass a test it should fail.
var listParams = map[string][]string{
	ActionListInstances:      {"InstanceIds", "Status", "InstanceName", "Tag", "ChargeType", "ResourceGroupId", "PlanType", "PublicIpAddresses"},
	ActionListInstanceStatus: {"InstanceIds"},
	ActionListDisks:          {"DiskIds", "InstanceId", "DiskType", "Tag", "ResourceGroupId"},
	ActionListSnapshots:      {"SnapshotIds", "DiskId", "InstanceId", "SourceDiskType", "Tag", "ResourceGroupId"},
}

// checkListParams refuses a parameter the list action does not take.
func checkListParams(c *call) *apiError {
	allowed := listParams[c.action]
	for name := range c.params {
		base, _, _ := strings.Cut(name, ".")
		if base == "PageSize" || base == "PageNumber" || slices.Contains(allowed, base) {
			continue
		}
		return invalidParam(name, "it is not a filter of "+c.action+".")
	}
	return nil
}

// tagFilter reads Tag.N.Key / Tag.N.Value and returns whether a resource's
// tags match them all (an empty Value matches any value of the key).
func tagFilter(c *call) (func(tags map[string]string) bool, *apiError) {
	want := tagArgs(c.params)
	if len(want) > MaxTagsPerCall {
		return nil, invalidParam("Tag", fmt.Sprintf("at most %d tags are allowed.", MaxTagsPerCall))
	}
	for _, t := range want {
		if t.Key == "" {
			return nil, invalidParam("Tag.N.Key", "a tag filter needs a key.")
		}
	}
	return func(tags map[string]string) bool {
		for _, t := range want {
			v, ok := tags[t.Key]
			if !ok || (t.Value != "" && v != t.Value) {
				return false
			}
		}
		return true
	}, nil
}

// oneOf refuses a value of name that is not one of values (compared
// without case), and returns the value.
func oneOf(c *call, name string, values ...string) (string, *apiError) {
	v := c.params[name]
	if v == "" {
		return "", nil
	}
	for _, ok := range values {
		if strings.EqualFold(v, ok) {
			return v, nil
		}
	}
	return "", invalidParam(name, "it must be one of "+strings.Join(values, ", ")+".")
}

func (s *Server) filteredInstances(c *call) ([]*instance, *apiError) {
	if err := checkListParams(c); err != nil {
		return nil, err
	}
	ids, err := parseIDList(c.params, "InstanceIds")
	if err != nil {
		return nil, err
	}
	ips, err := parseIDList(c.params, "PublicIpAddresses")
	if err != nil {
		return nil, err
	}
	tagged, err := tagFilter(c)
	if err != nil {
		return nil, err
	}
	charge, err := oneOf(c, "ChargeType", "PrePaid", "PostPaid")
	if err != nil {
		return nil, err
	}
	want, wantIP := idSet(ids), idSet(ips)
	p := c.params
	var out []*instance
	for _, in := range sorted(s.state.instances, func(i *instance) int { return i.seq }) {
		switch {
		case in.region != c.region,
			want != nil && !want[in.id],
			wantIP != nil && !wantIP[in.publicIP],
			p["Status"] != "" && !strings.EqualFold(p["Status"], s.state.instanceStatus(in)),
			p["InstanceName"] != "" && p["InstanceName"] != in.name,
			charge != "" && !strings.EqualFold(charge, in.chargeType),
			p["ResourceGroupId"] != "" && p["ResourceGroupId"] != in.resourceGroup,
			p["PlanType"] != "" && p["PlanType"] != in.planType,
			!tagged(s.state.tags["instance/"+in.id]):
			continue
		}
		out = append(out, in)
	}
	return out, nil
}

// resourceGroup is the group of a disk or snapshot: its instance's.
func (st *state) resourceGroup(instanceID string) string {
	if in := st.instances[instanceID]; in != nil {
		return in.resourceGroup
	}
	return DefaultResourceGroupID
}

func (s *Server) listInstances(c *call) (any, *apiError) {
	ins, err := s.filteredInstances(c)
	if err != nil {
		return nil, err
	}
	items := make([]instanceJSON, 0, len(ins))
	for _, in := range ins {
		items = append(items, s.instanceJSON(in))
	}
	return paged(c, "Instances", items)
}

func (s *Server) listInstanceStatus(c *call) (any, *apiError) {
	ins, err := s.filteredInstances(c)
	if err != nil {
		return nil, err
	}
	items := make([]statusJSON, 0, len(ins))
	for _, in := range ins {
		items = append(items, statusJSON{InstanceId: in.id, Status: s.state.instanceStatus(in)})
	}
	return paged(c, "InstanceStatuses", items)
}

func (s *Server) listDisks(c *call) (any, *apiError) {
	if err := checkListParams(c); err != nil {
		return nil, err
	}
	ids, err := parseIDList(c.params, "DiskIds")
	if err != nil {
		return nil, err
	}
	tagged, err := tagFilter(c)
	if err != nil {
		return nil, err
	}
	want := idSet(ids)
	typ := c.params["DiskType"]
	if typ != "" && !strings.EqualFold(typ, "system") && !strings.EqualFold(typ, "data") {
		return nil, invalidParam("DiskType", "it must be System or Data.")
	}
	var items []diskJSON
	for _, d := range sorted(s.state.disks, func(d *disk) int { return d.seq }) {
		switch {
		case d.region != c.region,
			want != nil && !want[d.id],
			c.params["InstanceId"] != "" && c.params["InstanceId"] != d.instanceID,
			typ != "" && !strings.EqualFold(typ, d.diskType()),
			c.params["ResourceGroupId"] != "" && c.params["ResourceGroupId"] != s.state.resourceGroup(d.instanceID),
			!tagged(s.state.tags["disk/"+d.id]):
			continue
		}
		items = append(items, s.diskJSON(d))
	}
	return paged(c, "Disks", items)
}

func (s *Server) listSnapshots(c *call) (any, *apiError) {
	if err := checkListParams(c); err != nil {
		return nil, err
	}
	ids, err := parseIDList(c.params, "SnapshotIds")
	if err != nil {
		return nil, err
	}
	tagged, err := tagFilter(c)
	if err != nil {
		return nil, err
	}
	want := idSet(ids)
	typ, err := oneOf(c, "SourceDiskType", "System", "Data")
	if err != nil {
		return nil, err
	}
	var items []snapshotJSON
	for _, sn := range sorted(s.state.snapshots, func(sn *snapshot) int { return sn.seq }) {
		switch {
		case sn.region != c.region,
			want != nil && !want[sn.id],
			c.params["DiskId"] != "" && c.params["DiskId"] != sn.diskID,
			c.params["InstanceId"] != "" && c.params["InstanceId"] != sn.instanceID,
			typ != "" && !strings.EqualFold(typ, sn.diskType()),
			c.params["ResourceGroupId"] != "" && c.params["ResourceGroupId"] != s.state.resourceGroup(sn.instanceID),
			!tagged(s.state.tags["snapshot/"+sn.id]):
			continue
		}
		items = append(items, s.snapshotJSON(sn, c.now))
	}
	return paged(c, "Snapshots", items)
}

func (s *Server) instanceJSON(in *instance) instanceJSON {
	j := instanceJSON{
		InstanceId:      in.id,
		InstanceName:    in.name,
		Status:          s.state.instanceStatus(in),
		RegionId:        in.region,
		CreationTime:    formatTime(in.created),
		ExpiredTime:     formatTime(in.expires),
		ChargeType:      in.chargeType,
		PlanId:          "swas.s.c2m1s40b1.linux",
		PlanType:        in.planType,
		ImageId:         emulatorImage.ImageId,
		BusinessStatus:  "Normal",
		DdosStatus:      "Normal",
		PublicIpAddress: in.publicIP,
		InnerIpAddress:  in.innerIP,
		Uuid:            in.uuid,
		ResourceGroupId: in.resourceGroup,
		ResourceSpec:    resourceSpecJSON{DiskCategory: "ESSD", Cpu: 2, Bandwidth: 3, DiskSize: 40, Memory: "1", Flow: "200"},
		Image:           emulatorImage,
		Disks:           []diskJSON{},
		NetworkAttributes: []networkJSON{{PublicIpAddress: in.publicIP, PrivateIpAddress: in.innerIP,
			PeakBandwidth: 3, PublicIpDdosStatus: "Normal"}},
		Tags: s.state.tagsJSON("instance/" + in.id),
	}
	if d := s.state.disks[in.systemDisk]; d != nil {
		j.ResourceSpec.DiskSize = d.sizeGB
	}
	if j.Status == StatusDisabled {
		j.BusinessStatus, j.DisableReason = "Expired", "EXPIRED"
	}
	for _, id := range append([]string{in.systemDisk}, in.dataDisks...) {
		if d := s.state.disks[id]; d != nil {
			j.Disks = append(j.Disks, s.diskJSON(d))
		}
	}
	return j
}

func (s *Server) diskJSON(d *disk) diskJSON {
	j := diskJSON{
		DiskId:          d.id,
		DiskName:        "",
		DiskType:        d.diskType(),
		Category:        "ESSD",
		Device:          "/dev/xvda",
		Size:            d.sizeGB,
		Status:          s.state.diskStatus(d),
		InstanceId:      d.instanceID,
		RegionId:        d.region,
		CreationTime:    formatTime(d.created),
		DiskChargeType:  "PrePaid",
		ResourceGroupId: s.state.resourceGroup(d.instanceID),
		Tags:            s.state.tagsJSON("disk/" + d.id),
	}
	j.DiskTags = j.Tags
	if !d.system {
		j.Device = "/dev/xvdb"
	}
	if in := s.state.instances[d.instanceID]; in != nil {
		j.InstanceName = in.name
	}
	return j
}

func (s *Server) snapshotJSON(sn *snapshot, now time.Time) snapshotJSON {
	v := s.state.snapshotShown(sn, now)
	j := snapshotJSON{
		SnapshotId:      sn.id,
		SnapshotName:    sn.name,
		Status:          v.status,
		Progress:        fmt.Sprintf("%d%%", v.progress),
		SourceDiskId:    sn.diskID,
		SourceDiskType:  sn.diskType(),
		RegionId:        sn.region,
		CreationTime:    formatTime(sn.created),
		RollbackTime:    formatTime(v.rollback),
		ResourceGroupId: s.state.resourceGroup(sn.instanceID),
		Tags:            s.state.tagsJSON("snapshot/" + sn.id),
	}
	// SWAS reports the instance only for system-disk snapshots.
	if sn.system {
		j.InstanceId = sn.instanceID
	}
	return j
}

// emulatorImage is the image every emulated server runs.
var emulatorImage = imageJSON{
	ImageId: "794526736f3a4b2a95d9e2a8e7d1c2f6", ImageName: "Alibaba Cloud Linux 3.2104 LTS 64bit",
	ImageType: "system", ImageVersion: "3.2104", OsType: "Linux", Platform: "Linux",
	Description: "Alibaba Cloud Linux 3.2104 LTS 64-bit",
}
