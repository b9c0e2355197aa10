package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verishake/verishake/protocol"
)

// Push is one server → device message as the push path carries it.
type Push struct {
	// Message is the handshake message; Message.RegID is the destination.
	Message protocol.Message
	// ID names this send in traces so that the device's receive can be
	// matched with it; zero when unknown.
	ID uint64
}

// Pusher delivers push messages to the device registered under the
// message's RegID. Like the platform it stands for, it promises nothing
// about order or delivery: a nil error means the platform accepted the
// message, not that the device got it. The handshake's retransmissions
// make up for loss, so implementations should not retry at length.
type Pusher interface {
	Push(ctx context.Context, p Push) error
}

// PusherFunc adapts a function to Pusher, e.g. to deliver in process.
type PusherFunc func(ctx context.Context, p Push) error

// Push calls f.
func (f PusherFunc) Push(ctx context.Context, p Push) error { return f(ctx, p) }

// Keys of the FCM data map. FCM data values must be strings, so the frame is
// base64url text.
const (
	dataFrame = "frame" // protocol frame, base64url without padding
	dataID    = "id"    // Push.ID, for traces; absent when empty
)

// EncodePushData returns the FCM data map of p.
func EncodePushData(p Push) (map[string]string, error) {
	frame, err := protocol.EncodeMessage(p.Message)
	if err != nil {
		return nil, fmt.Errorf("encode push %v: %w", p.Message.Kind, err)
	}
	d := map[string]string{dataFrame: base64.RawURLEncoding.EncodeToString(frame)}
	if p.ID != 0 {
		d[dataID] = strconv.FormatUint(p.ID, 10)
	}
	return d, nil
}

// DecodePushData parses an FCM data map written by EncodePushData. Keys it
// does not know are ignored, as an app ignores data meant for others;
// a missing or malformed frame or id is an error.
func DecodePushData(d map[string]string) (Push, error) {
	s, ok := d[dataFrame]
	if !ok {
		return Push{}, fmt.Errorf("push data: no %q key", dataFrame)
	}
	if len(s) > base64.RawURLEncoding.EncodedLen(protocol.MaxFrame) {
		return Push{}, fmt.Errorf("push data: %q: %w", dataFrame, protocol.ErrOversized)
	}
	frame, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Push{}, fmt.Errorf("push data: %q is not base64url: %w", dataFrame, err)
	}
	m, err := protocol.DecodeMessage(frame)
	if err != nil {
		return Push{}, fmt.Errorf("push data: %q: %w", dataFrame, err)
	}
	if m.Kind.Upstream() {
		return Push{}, fmt.Errorf("push data: %v is an upstream message: %w", m.Kind, protocol.ErrWrongRole)
	}
	id, err := parseID(d[dataID])
	if err != nil {
		return Push{}, fmt.Errorf("push data: %q: %w", dataID, err)
	}
	return Push{Message: m, ID: id}, nil
}

// newMessageID returns a random non-zero id for one send. Random rather
// than counted, so that the server, its restarts and every device can each
// write their own trace file and their ids still do not collide (odds
// about n²/2⁶⁵ for n messages).
func newMessageID() uint64 {
	for {
		if id := randv2.Uint64(); id != 0 {
			return id
		}
	}
}

// parseID reads a message id from outside: empty (unknown, 0) or a decimal
// uint64. Anything else is an error, not a silent zero.
func parseID(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 20 {
		return 0, fmt.Errorf("message id of %d bytes, at most 20 digits", len(s))
	}
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("message id %q is not a decimal uint64", s)
	}
	return id, nil
}

// BearerSource supplies the OAuth 2 access token FCMPusher sends. For the
// real FCM, wrap golang.org/x/oauth2's TokenSource (from google.DefaultTokenSource
// with scope https://www.googleapis.com/auth/firebase.messaging):
//
//	type oauth struct{ ts oauth2.TokenSource }
//	func (o oauth) BearerToken(context.Context) (string, error) {
//		t, err := o.ts.Token()
//		if err != nil { return "", err }
//		return t.AccessToken, nil
//	}
type BearerSource interface {
	BearerToken(ctx context.Context) (string, error)
}

// StaticBearer is a fixed bearer token, as the local relay expects.
type StaticBearer string

// BearerToken returns b.
func (b StaticBearer) BearerToken(context.Context) (string, error) { return string(b), nil }

// FCMPusher sends push messages in the shape of FCM's HTTP v1 API:
//
//	POST {BaseURL}/v1/projects/{Project}/messages:send
//	Authorization: Bearer {token}
//	{"message": {"token": "...", "data": {"frame": "...", "id": "..."}, "android": {"ttl": "30s"}}}
//
// Pointed at https://fcm.googleapis.com with a real BearerSource and a
// Token mapping it talks to FCM itself; pointed at a Relay it talks to the
// local one. It makes one attempt per push: the handshake retransmits.
type FCMPusher struct {
	// BaseURL is the API root, e.g. "https://fcm.googleapis.com" or a
	// relay's "http://127.0.0.1:PORT".
	BaseURL string
	// Project is the Firebase project id in the path.
	Project string
	// Auth supplies the bearer token; nil sends no Authorization header.
	Auth BearerSource
	// Client sends the requests; nil uses http.DefaultClient.
	Client *http.Client
	// Token maps a RegID to the registration token string FCM knows the
	// device by. Nil sends the RegID in decimal, which is what the relay
	// hands out. A service on real FCM keeps a table from RegID to token
	// string, filled when a device reports its token (see docs/embedding.md).
	Token func(protocol.RegID) (string, error)
	// TTL, when positive, is sent as android.ttl: how long the platform
	// holds an undelivered message. A Validation older than the session
	// lifetime is useless, so the lifetime is a sensible value.
	TTL time.Duration
}

// fcmRequest and fcmMessage are the part of FCM's request body used here.
type fcmRequest struct {
	Message fcmMessage `json:"message"`
}

type fcmMessage struct {
	Token   string            `json:"token"`
	Data    map[string]string `json:"data"`
	Android *fcmAndroid       `json:"android,omitempty"`
}

type fcmAndroid struct {
	TTL string `json:"ttl,omitempty"`
}

// fcmError is FCM's error body, {"error": {"code", "message", "status"}}.
type fcmError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// PushError is a push the platform refused, with its HTTP status and, when
// the body was FCM-shaped, its status name (e.g. "NOT_FOUND" for a token
// that is not registered).
type PushError struct {
	StatusCode int
	Status     string
	Message    string
}

// Error names the status and FCM's reason.
func (e *PushError) Error() string {
	return fmt.Sprintf("push refused: HTTP %d %s: %s", e.StatusCode, e.Status, e.Message)
}

// Push posts p to the messages:send endpoint.
func (f *FCMPusher) Push(ctx context.Context, p Push) error {
	data, err := EncodePushData(p)
	if err != nil {
		return err
	}
	token := strconv.FormatUint(uint64(p.Message.RegID), 10)
	if f.Token != nil {
		if token, err = f.Token(p.Message.RegID); err != nil {
			return fmt.Errorf("push to %d: registration token: %w", p.Message.RegID, err)
		}
	}
	req := fcmRequest{Message: fcmMessage{Token: token, Data: data}}
	if f.TTL > 0 {
		req.Message.Android = &fcmAndroid{TTL: formatTTL(f.TTL)}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("push to %d: %w", p.Message.RegID, err)
	}
	u := strings.TrimSuffix(f.BaseURL, "/") + "/v1/projects/" + url.PathEscape(f.Project) + "/messages:send"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("push to %d: %w", p.Message.RegID, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	if f.Auth != nil {
		tok, err := f.Auth.BearerToken(ctx)
		if err != nil {
			return fmt.Errorf("push to %d: bearer token: %w", p.Message.RegID, err)
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(hr)
	if err != nil {
		return fmt.Errorf("push to %d: %w", p.Message.RegID, err)
	}
	defer resp.Body.Close()
	// Read a bounded amount so that the connection can be reused and a
	// hostile endpoint cannot make us buffer without end.
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	pe := &PushError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(rb))}
	var fe fcmError
	if json.Unmarshal(rb, &fe) == nil && fe.Error.Status != "" {
		pe.Status, pe.Message = fe.Error.Status, fe.Error.Message
	}
	return fmt.Errorf("push to %d: %w", p.Message.RegID, pe)
}

// formatTTL writes d as FCM's Duration JSON: seconds with up to nine
// fractional digits and an "s" suffix.
func formatTTL(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// maxTTL is FCM's longest time to live, 28 days.
const maxTTL = 28 * 24 * time.Hour

// parseTTL reads FCM's Duration JSON strictly: decimal digits, at most nine
// of them after a point, and an "s" ("3.5s"); more than zero and at most
// 28 days. No sign, exponent, NaN, Inf or space: strconv.ParseFloat takes
// all of those, and a TTL of NaN or 0 is a message never delivered.
func parseTTL(s string) (time.Duration, error) {
	num, ok := strings.CutSuffix(s, "s")
	if !ok {
		return 0, fmt.Errorf("ttl %q: want seconds with an s suffix, e.g. \"3.5s\"", s)
	}
	whole, frac, hasFrac := strings.Cut(num, ".")
	if !allDigits(whole) || len(whole) > 7 || hasFrac && (!allDigits(frac) || len(frac) > 9) {
		return 0, fmt.Errorf("ttl %q: want decimal seconds with at most 9 decimals, e.g. \"3.5s\"", s)
	}
	secs, _ := strconv.ParseInt(whole, 10, 64)
	d := time.Duration(secs) * time.Second
	if hasFrac {
		nanos, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		d += time.Duration(nanos)
	}
	if d <= 0 || d > maxTTL {
		return 0, fmt.Errorf("ttl %q: want more than 0s and at most %ds", s, int64(maxTTL/time.Second))
	}
	return d, nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// errNoPusher is returned by a Server built without a Pusher.
var errNoPusher = errors.New("no Pusher configured")
