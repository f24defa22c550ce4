package acme

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// The Acme Compute API, as this client speaks it: every action is
// POST /v1/{Action} with a JSON body naming the region; replies are JSON
// with a RequestId, and errors carry {"Error": {"Code", "Message"}} with a
// 4xx or 5xx status. Calls are signed with HMAC-SHA256 over the method,
// path, date and body hash (see Sign), so the secret never crosses the wire.

// SignatureAlgorithm names the Authorization scheme.
const SignatureAlgorithm = "ACME1-HMAC-SHA256"

// DateHeader carries the signing time (RFC 3339, UTC).
const DateHeader = "X-Acme-Date"

// maxReply bounds a reply body: a gateway's page must not exhaust memory.
const maxReply = 4 << 20

// Sign returns the Authorization header value of a call. The emulator
// checks it with the same function.
func Sign(keyID, secret, action, date string, body []byte) string {
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "POST\n/v1/%s\n%s\n%s", action, date, hex.EncodeToString(sum[:]))
	return SignatureAlgorithm + " Credential=" + keyID + ", Signature=" + hex.EncodeToString(mac.Sum(nil))
}

// apiError is a reply that carried the cloud's error envelope, or a non-2xx
// status without one.
type apiError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("acme: HTTP %d %s: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// badReply is a 2xx reply that is not the API's JSON.
type badReply struct{ msg string }

func (e *badReply) Error() string { return e.msg }

// wire is this provider's "SDK client": one per call in flight (leased
// from an sdkhttp.Pool), over a Binder that applies the per-attempt
// timeout and the call's context.
type wire struct {
	http     *http.Client
	endpoint sdkhttp.Endpoint
	keyID    string
	secret   string
	now      func() time.Time
}

// envelope is what every reply shares.
type envelope struct {
	RequestID string `json:"RequestId"`
	Error     *struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error,omitempty"`
}

// do sends one attempt of action with body in and decodes the reply into
// out (which must embed the RequestId). It returns the request ID.
func (w *wire) do(ctx context.Context, action string, in, out any) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint.URL()+"/v1/"+action, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	date := w.now().UTC().Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(DateHeader, date)
	req.Header.Set("Authorization", Sign(w.keyID, w.secret, action, date, body))
	resp, err := w.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return "", err // a reply cut off: the transport classifies it (ambiguous)
	}
	var env envelope
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{Status: resp.StatusCode}
		if jerr == nil && env.Error != nil {
			ae.Code, ae.Message, ae.RequestID = env.Error.Code, env.Error.Message, env.RequestID
		} else {
			ae.Message = strings.TrimSpace(string(raw))
		}
		return "", ae
	}
	if len(raw) > maxReply {
		return "", &badReply{msg: fmt.Sprintf("the reply is longer than %d bytes", maxReply)}
	}
	if jerr != nil {
		return "", &badReply{msg: "the reply is not the API's JSON: " + jerr.Error()}
	}
	if env.Error != nil { // an error envelope on a 2xx: trust the envelope
		return "", &apiError{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message, RequestID: env.RequestID}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return "", &badReply{msg: "the reply is not the API's JSON: " + err.Error()}
		}
	}
	return env.RequestID, nil
}

// The API's models.

type serverJSON struct {
	ServerID      string         `json:"ServerId"`
	Name          string         `json:"Name"`
	State         string         `json:"State"`
	SystemDiskID  string         `json:"SystemDiskId"`
	LastOperation *operationJSON `json:"LastOperation,omitempty"`
}

type operationJSON struct {
	Action    string    `json:"Action"`
	State     string    `json:"State"` // InProgress, Succeeded, Failed
	RequestID string    `json:"RequestId"`
	StartedAt time.Time `json:"StartedAt"`
}

type restoreJSON struct {
	RequestID string    `json:"RequestId"`
	ServerID  string    `json:"ServerId"`
	State     string    `json:"State"`
	At        time.Time `json:"At"`
}

type snapshotJSON struct {
	SnapshotID  string       `json:"SnapshotId"`
	Name        string       `json:"Name"`
	ServerID    string       `json:"ServerId"`
	DiskID      string       `json:"DiskId"`
	State       string       `json:"State"` // creating, available, restoring, error
	Progress    int          `json:"Progress"`
	CreatedAt   time.Time    `json:"CreatedAt"`
	LastRestore *restoreJSON `json:"LastRestore,omitempty"`
}
