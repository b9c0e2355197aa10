package transport

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

// TestServerRefusalsDoNotTellWhoHasASession sends Confirm1s and a Hello
// that the machine refuses for different reasons (no session, a wrong Ts
// for a pending or a verified session, an expired session, a duplicate
// Hello) and checks that every answer is the same 409 with the same body:
// the verdicts differ, as the counters show, but no client learns from the
// answer whether a RegID has a session.
func TestServerRefusalsDoNotTellWhoHasASession(t *testing.T) {
	h := protocol.Hardened().MustCompile()
	clock := newFakeClock()
	ts := startServer(t, ServerConfig{Handshake: h, Now: clock.Now})
	hello := func(id protocol.RegID, tc byte) protocol.Message {
		return protocol.Message{Kind: protocol.Hello, RegID: id, Tc: protocol.Token{tc}}
	}
	confirm1 := func(id protocol.RegID, ts protocol.Token) protocol.Message {
		return protocol.Message{Kind: protocol.Confirm1, RegID: id, Ts: ts}
	}
	accepted := func(m protocol.Message) protocol.Message {
		t.Helper()
		code, body := ts.post(t, PathHello, m)
		require.Equal(t, http.StatusAccepted, code, body)
		return ts.pusher.last().Message
	}
	const expiring, pending, verified, none = 1, 2, 3, 4
	expiringTs := accepted(hello(expiring, 1)).Ts
	clock.Advance(h.Profile().Lifetime / 2)
	accepted(hello(pending, 2))
	verifiedTs := accepted(hello(verified, 3)).Ts
	code, body := ts.post(t, PathConfirm1, confirm1(verified, verifiedTs))
	require.Equal(t, http.StatusAccepted, code, body)
	clock.Advance(h.Profile().Lifetime / 2) // the first session's lifetime is over

	guess := protocol.Token{0xee}
	refusals := []struct {
		name, path string
		m          protocol.Message
	}{
		{"a RegID with no session", PathConfirm1, confirm1(none, guess)},
		{"a wrong Ts for a pending session", PathConfirm1, confirm1(pending, guess)},
		{"a wrong Ts for a verified session", PathConfirm1, confirm1(verified, guess)},
		{"the Ts of a session past its lifetime", PathConfirm1, confirm1(expiring, expiringTs)},
		{"a late copy of the Hello that opened the verified session", PathHello, hello(verified, 3)},
	}
	for _, r := range refusals {
		code, body := ts.post(t, r.path, r.m)
		require.Equal(t, http.StatusConflict, code, r.name)
		require.Equal(t, ReasonRefused+"\n", body, r.name)
	}
	rej := ts.Stats().Rejections
	require.Equal(t, []uint64{1, 2, 1, 1}, []uint64{rej["unknown_regid"], rej["wrong_ts"], rej["expired"], rej["duplicate"]},
		"the verdicts behind the one answer differ, and are counted")
}

// TestServerErrorBodiesAreFixed checks that requests refused before the
// machine get a body that depends on what was wrong only, never on what
// the request carried: two bad paths, two bad methods, two bad message
// ids, two frames cut at different places each get one body.
func TestServerErrorBodiesAreFixed(t *testing.T) {
	ts := startServer(t, ServerConfig{})
	hello, err := protocol.EncodeMessage(protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Token{1}})
	require.NoError(t, err)
	do := func(method, path, header string, body []byte) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, ts.http.URL+path, bytes.NewReader(body))
		require.NoError(t, err)
		if header != "" {
			req.Header.Set(HeaderMessageID, header)
		}
		resp, err := ts.http.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	pairs := []struct {
		name   string
		code   int
		reason string
		a, b   func() (int, string)
	}{
		{"path", http.StatusNotFound, ReasonNoRoute,
			func() (int, string) { return do(http.MethodPost, "/v1/hello-7", "", hello) },
			func() (int, string) { return do(http.MethodPost, "/v1/%3Cscript%3E", "", hello) }},
		{"method", http.StatusMethodNotAllowed, ReasonMethod,
			func() (int, string) { return do(http.MethodGet, PathHello, "", nil) },
			func() (int, string) { return do(http.MethodDelete, PathConfirm1, "", nil) }},
		{"message id", http.StatusBadRequest, ReasonMessageID,
			func() (int, string) { return do(http.MethodPost, PathHello, "12x", hello) },
			func() (int, string) { return do(http.MethodPost, PathHello, strings.Repeat("9", 30), hello) }},
		{"truncated frame", http.StatusBadRequest, "bad frame: truncated frame",
			func() (int, string) { return do(http.MethodPost, PathHello, "", hello[:5]) },
			func() (int, string) { return do(http.MethodPost, PathHello, "", hello[:20]) }},
		{"oversized", http.StatusRequestEntityTooLarge, ReasonOversized,
			func() (int, string) { return do(http.MethodPost, PathHello, "", make([]byte, protocol.MaxFrame+1)) },
			func() (int, string) { return do(http.MethodPost, PathHello, "", make([]byte, 3*protocol.MaxFrame)) }},
	}
	for _, p := range pairs {
		codeA, bodyA := p.a()
		codeB, bodyB := p.b()
		require.Equal(t, []int{p.code, p.code}, []int{codeA, codeB}, p.name)
		require.Equal(t, p.reason+"\n", bodyA, p.name)
		require.Equal(t, bodyA, bodyB, p.name)
	}
	require.Contains(t, ReasonOversized, strconv.Itoa(protocol.MaxFrame), "the 413 reason names the real bound")
}

// TestRelayErrorBodiesEchoNothing checks that the relay's refusals are
// fixed reasons: two unregistered tokens get one body, a bad token or TTL
// is not echoed, and a poll for a RegID that does not exist is answered
// as one with a wrong secret.
func TestRelayErrorBodiesEchoNothing(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{Bearer: "sender"})
	do := func(method, path, auth, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	send := func(token, ttl string) (int, string) {
		body := `{"message":{"token":"` + token + `","data":{"frame":"x"}`
		if ttl != "" {
			body += `,"android":{"ttl":"` + ttl + `"}`
		}
		return do(http.MethodPost, "/v1/projects/p/messages:send", "Bearer sender", body+"}}")
	}
	code1, body1 := send("123456", "")
	code2, body2 := send("987654", "")
	require.Equal(t, []int{http.StatusNotFound, http.StatusNotFound}, []int{code1, code2})
	require.Equal(t, body1, body2, "the 404 names no token")
	require.NotContains(t, body1, "123456")

	code, body := send("12&lt;x", "")
	require.Equal(t, http.StatusBadRequest, code)
	require.NotContains(t, body, "12&lt;x")
	id, secret := r.Register()
	code, body = send(itoa(id), "NaNs")
	require.Equal(t, http.StatusBadRequest, code)
	require.NotContains(t, body, "NaNs")

	code1, body1 = do(http.MethodGet, "/relay/v1/devices/"+itoa(id+1000)+"/messages", "Bearer "+secret, "")
	code2, body2 = do(http.MethodGet, "/relay/v1/devices/"+itoa(id)+"/messages", "Bearer wrong", "")
	require.Equal(t, []int{http.StatusUnauthorized, http.StatusUnauthorized}, []int{code1, code2})
	require.Equal(t, body1, body2, "no device and a wrong secret look alike")
	code1, body1 = do(http.MethodGet, "/relay/v1/devices/0042/messages", "Bearer "+secret, "")
	code2, body2 = do(http.MethodGet, "/relay/v1/devices/x/messages", "Bearer "+secret, "")
	require.Equal(t, []int{http.StatusBadRequest, http.StatusBadRequest}, []int{code1, code2})
	require.Equal(t, body1, body2, "a bad RegID is not echoed")
}
