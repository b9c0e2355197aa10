package transport

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// relayDo sends one request to the relay and returns its status.
func relayDo(t *testing.T, url, method, path, auth, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRelayAuthenticatesEveryEndpoint checks that registering needs the
// registration token, stats need the senders' token, and a poll needs its
// secret after exactly "Bearer ".
func TestRelayAuthenticatesEveryEndpoint(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{Bearer: "sender-token", RegisterToken: "enrol-token"})
	for _, tc := range []struct {
		name, method, path, auth string
		code                     int
	}{
		{"register without a token", http.MethodPost, "/relay/v1/devices", "", http.StatusUnauthorized},
		{"register with the senders' token", http.MethodPost, "/relay/v1/devices", "Bearer sender-token", http.StatusUnauthorized},
		{"register with the token", http.MethodPost, "/relay/v1/devices", "Bearer enrol-token", http.StatusOK},
		{"stats without a token", http.MethodGet, "/relay/v1/stats", "", http.StatusUnauthorized},
		{"stats with the registration token", http.MethodGet, "/relay/v1/stats", "Bearer enrol-token", http.StatusUnauthorized},
		{"stats with the senders' token", http.MethodGet, "/relay/v1/stats", "Bearer sender-token", http.StatusOK},
	} {
		require.Equal(t, tc.code, relayDo(t, hs.URL, tc.method, tc.path, tc.auth, ""), tc.name)
	}
	require.Equal(t, 1, r.Stats().Devices, "only the authenticated registration made a device")

	id, secret := r.Register()
	poll := "/relay/v1/devices/" + itoa(id) + "/messages?wait=0s"
	require.Equal(t, http.StatusUnauthorized, relayDo(t, hs.URL, http.MethodGet, poll, secret, ""), "the secret without the Bearer prefix")
	require.Equal(t, http.StatusUnauthorized, relayDo(t, hs.URL, http.MethodGet, poll, "Basic "+secret, ""), "another scheme")
	require.Equal(t, http.StatusOK, relayDo(t, hs.URL, http.MethodGet, poll, "Bearer "+secret, ""))
	require.Equal(t, http.StatusBadRequest, relayDo(t, hs.URL, http.MethodGet, "/relay/v1/devices/0"+itoa(id)+"/messages", "Bearer "+secret, ""),
		"a RegID with a leading zero names no device")

	_, err := NewRelay(RelayConfig{RegisterToken: "x"})
	require.ErrorContains(t, err, "Bearer")
	_, err = NewRelay(RelayConfig{Bearer: "x"})
	require.ErrorContains(t, err, "RegisterToken")
}

// TestRelayRefusesMalformedTokensAndTTLs sends pushes whose token is not a
// RegID in canonical decimal, or whose TTL is not a positive FCM duration:
// each is refused with 400, and nothing reaches device 1.
func TestRelayRefusesMalformedTokensAndTTLs(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{Bearer: "b", RegisterToken: "e"})
	id, secret := r.Register()
	require.Equal(t, "1", itoa(id))
	send := func(token, ttl string) int {
		android := ""
		if ttl != "" {
			android = `,"android":{"ttl":"` + ttl + `"}`
		}
		return relayDo(t, hs.URL, http.MethodPost, "/v1/projects/p/messages:send", "Bearer b",
			`{"message":{"token":"`+token+`","data":{"frame":"x"}`+android+`}}`)
	}
	for _, token := range []string{"01", "+1", " 1", "1 ", "0", "1.0", "0x1", "18446744073709551617"} {
		require.Equal(t, http.StatusBadRequest, send(token, ""), "token %q", token)
	}
	for _, ttl := range []string{"NaNs", "0s", "0.0s", "Infs", "-1s", "+1s", "1e3s", "0x10s", " 1s", "1.s", ".5s", "1.0000000001s", "2419201s", "1"} {
		require.Equal(t, http.StatusBadRequest, send("1", ttl), "ttl %q", ttl)
	}
	code, msgs := pollRelay(t, hs, id, secret, "0s")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, msgs, "no refused push was queued")

	for _, ttl := range []string{"5s", "3.5s", "2.000000001s", "2419200s"} { // long enough to outlive a slow test run
		require.Equal(t, http.StatusOK, send("1", ttl), "ttl %q", ttl)
	}
	require.Equal(t, http.StatusNotFound, send("2", ""), "a well-formed token of no device")
	_, msgs = pollRelay(t, hs, id, secret, "0s")
	require.Len(t, msgs, 4)
}

// TestParseTTLIsExact checks the durations parseTTL reads from the strings
// FCM's Duration JSON allows, down to the nanosecond.
func TestParseTTLIsExact(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"0.001s":       time.Millisecond,
		"0.000000001s": time.Nanosecond,
		"30s":          30 * time.Second,
		"3.5s":         3500 * time.Millisecond,
		"2419200s":     28 * 24 * time.Hour,
	} {
		got, err := parseTTL(s)
		require.NoError(t, err, s)
		require.Equal(t, want, got, s)
		require.Equal(t, s, formatTTL(want), "formatTTL writes what parseTTL reads")
	}
}
