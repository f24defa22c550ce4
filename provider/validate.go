package provider

import (
	"strings"
	"unicode/utf8"
)

// MaxIDLen bounds resource IDs and region names; real ones are far shorter.
const MaxIDLen = 128

// checkText rejects values that are not valid UTF-8, contain control
// characters or are longer than max bytes.
func checkText(field, value string, max int) error {
	if !utf8.ValidString(value) {
		return invalid(field, "is not valid UTF-8")
	}
	if len(value) > max {
		return invalid(field, "is %d bytes long; the limit is %d", len(value), max)
	}
	for i, r := range value {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return invalid(field, "has %s at byte %d", describeByte(value, i), i)
		}
	}
	return nil
}

// CheckRegion checks a region name: required, lower-case letters, digits and
// hyphens ("cn-hangzhou", "ap-guangzhou").
func CheckRegion(region string) error {
	if region == "" {
		return invalid("Region", "is empty; set it to the cloud region, e.g. cn-hangzhou or ap-guangzhou")
	}
	if err := checkText("Region", region, MaxIDLen); err != nil {
		return err
	}
	for i := 0; i < len(region); i++ {
		c := region[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid("Region", "%q has %s at byte %d; region names are lower-case letters, digits and hyphens", Clip(region), describeByte(region, i), i)
		}
	}
	return nil
}

// CheckID checks a resource ID: required, at most MaxIDLen bytes of letters,
// digits, '-', '_' and '.', starting with prefix when prefix is not empty.
// kind describes the expected ID for the message, e.g. "a SWAS disk ID".
func CheckID(field, value, prefix, kind string) error {
	if value == "" {
		return invalid(field, "is empty; it must be %s", kind)
	}
	if err := checkText(field, value, MaxIDLen); err != nil {
		return err
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalid(field, "%q has %s at byte %d; it must be %s", Clip(value), describeByte(value, i), i, kind)
		}
	}
	if prefix != "" && (!strings.HasPrefix(value, prefix) || len(value) == len(prefix)) {
		return invalid(field, "%q is not %s (expected %q followed by the ID)", Clip(value), kind, prefix)
	}
	return nil
}

// CheckOptionalID is CheckID for a field that may be empty.
func CheckOptionalID(field, value, prefix, kind string) error {
	if value == "" {
		return nil
	}
	return CheckID(field, value, prefix, kind)
}

// CheckName checks a free-text name (snapshot names): at most max bytes, no
// control characters.
func CheckName(field, value string, max int) error {
	return checkText(field, value, max)
}

// IDRule describes one kind of resource ID of a provider.
type IDRule struct {
	Prefix   string // required prefix, e.g. "lhins-"; "" for none
	Kind     string // for messages, e.g. "a Lighthouse instance ID (lhins-...)"
	Required bool
}

func (r IDRule) check(field, value string) error {
	if r.Required {
		return CheckID(field, value, r.Prefix, r.Kind)
	}
	return CheckOptionalID(field, value, r.Prefix, r.Kind)
}

// RequestRules are a provider's rules for the fields of a Request. Provider
// packages declare them once and call Check before sending anything.
type RequestRules struct {
	Provider string
	Instance IDRule
	Disk     IDRule
	Snapshot IDRule
}

// Check validates req: the region, the three IDs, the client token and the
// operation key. The error is an *Error with Kind ErrInvalidArgument and Field
// set, raised before any call.
func (rr RequestRules) Check(op string, req Request) error {
	checks := []func() error{
		func() error { return CheckRegion(req.Region) },
		func() error { return rr.Instance.check("InstanceID", req.InstanceID) },
		func() error { return rr.Disk.check("DiskID", req.DiskID) },
		func() error { return rr.Snapshot.check("SnapshotID", req.SnapshotID) },
		func() error {
			if req.ClientToken == "" {
				return nil
			}
			return ValidateClientToken(req.ClientToken)
		},
		func() error { return checkText("OperationKey", req.OperationKey, 1024) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			if e, ok := err.(*Error); ok {
				e.Provider, e.Op = rr.Provider, op
			}
			return err
		}
	}
	return nil
}

// CheckInstance validates a region and a required instance ID, for calls
// that take only those (Instance, StopInstance, StartInstance).
func (rr RequestRules) CheckInstance(op, region, instanceID string) error {
	return rr.only(op, region, func() error { return rr.Instance.required().check("InstanceID", instanceID) })
}

// CheckSnapshot validates a region and a required snapshot ID.
func (rr RequestRules) CheckSnapshot(op, region, snapshotID string) error {
	return rr.only(op, region, func() error { return rr.Snapshot.required().check("SnapshotID", snapshotID) })
}

// CheckDisk validates a region and a required disk ID.
func (rr RequestRules) CheckDisk(op, region, diskID string) error {
	return rr.only(op, region, func() error { return rr.Disk.required().check("DiskID", diskID) })
}

func (r IDRule) required() IDRule { r.Required = true; return r }

func (rr RequestRules) only(op, region string, check func() error) error {
	err := CheckRegion(region)
	if err == nil {
		err = check()
	}
	if e, ok := err.(*Error); ok {
		e.Provider, e.Op = rr.Provider, op
	}
	return err
}
