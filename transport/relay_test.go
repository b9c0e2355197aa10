package transport

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verishake/verishake/protocol"
)

func startRelay(t *testing.T, cfg RelayConfig) (*Relay, *httptest.Server) {
	t.Helper()
	// Tests that are not about authentication use these tokens.
	if cfg.Bearer == "" {
		cfg.Bearer = "any"
	}
	if cfg.RegisterToken == "" {
		cfg.RegisterToken = "enrol"
	}
	r, err := NewRelay(cfg)
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(r)
	hs.Config.RegisterOnShutdown(r.Close)
	hs.Start()
	t.Cleanup(func() { r.Close(); hs.Close() })
	return r, hs
}

func pollRelay(t *testing.T, hs *httptest.Server, id protocol.RegID, secret, wait string) (int, []pollMessage) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, hs.URL+"/relay/v1/devices/"+itoa(id)+"/messages?wait="+wait, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := hs.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var pr pollResponse
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&pr))
	}
	return resp.StatusCode, pr.Messages
}

func itoa(id protocol.RegID) string { return strconv.FormatUint(uint64(id), 10) }

func validationFor(id protocol.RegID) Push {
	return Push{Message: protocol.Message{Kind: protocol.Validation, RegID: id, Tc: protocol.Token{1}, Ts: protocol.Token{2}}, ID: 12345}
}

func TestRelayDeliversFCMShapedPush(t *testing.T) {
	_, hs := startRelay(t, RelayConfig{Bearer: "secret-token"})
	r := hs.Config.Handler.(*Relay)
	id, secret := r.Register()
	p := &FCMPusher{BaseURL: hs.URL, Project: "p1", Auth: StaticBearer("secret-token"), Client: hs.Client(), TTL: 30 * time.Second}
	require.NoError(t, p.Push(context.Background(), validationFor(id)))

	code, msgs := pollRelay(t, hs, id, secret, "1s")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, msgs, 1)
	got, err := DecodePushData(msgs[0].Data)
	require.NoError(t, err)
	require.Equal(t, validationFor(id), got)

	// Another device's secret reads nothing of this queue.
	_, other := r.Register()
	code, _ = pollRelay(t, hs, id, other, "0s")
	require.Equal(t, http.StatusUnauthorized, code)

	// Wrong bearer, unknown token: FCM's statuses, as a PushError.
	bad := &FCMPusher{BaseURL: hs.URL, Project: "p1", Auth: StaticBearer("nope"), Client: hs.Client()}
	err = bad.Push(context.Background(), validationFor(id))
	pe, ok := errors.AsType[*PushError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusUnauthorized, pe.StatusCode)
	require.Equal(t, "UNAUTHENTICATED", pe.Status)
	err = p.Push(context.Background(), validationFor(999))
	pe, ok = errors.AsType[*PushError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "NOT_FOUND", pe.Status)
}

func TestRelayRefusesBadSends(t *testing.T) {
	_, hs := startRelay(t, RelayConfig{})
	for name, tc := range map[string]struct {
		method, body string
		code         int
	}{
		"not json":    {http.MethodPost, "{", http.StatusBadRequest},
		"no token":    {http.MethodPost, `{"message":{"data":{}}}`, http.StatusBadRequest},
		"bad ttl":     {http.MethodPost, `{"message":{"token":"1","android":{"ttl":"soon"}}}`, http.StatusBadRequest},
		"huge":        {http.MethodPost, `{"message":{"token":"` + strings.Repeat("1", maxSendBody) + `"}}`, http.StatusRequestEntityTooLarge},
		"wrong verb":  {http.MethodGet, "", http.StatusMethodNotAllowed},
		"unknown dev": {http.MethodPost, `{"message":{"token":"12345","data":{}}}`, http.StatusNotFound},
	} {
		req, err := http.NewRequest(tc.method, hs.URL+"/v1/projects/x/messages:send", strings.NewReader(tc.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer any")
		resp, err := hs.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, tc.code, resp.StatusCode, name)
	}
}

func TestRelayQueueCapAndTTL(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{QueueCap: 3})
	id, secret := r.Register()
	p := &FCMPusher{BaseURL: hs.URL, Project: "p", Auth: StaticBearer("any"), Client: hs.Client()}
	for i := range 5 {
		err := p.Push(context.Background(), validationFor(id))
		if i < 3 {
			require.NoError(t, err)
		} else {
			require.Error(t, err, "a send beyond the cap is refused (TestRelayRefusesASendToAFullQueue)")
		}
	}
	_, msgs := pollRelay(t, hs, id, secret, "0s")
	require.Len(t, msgs, 3, "the cap keeps the three acknowledged")
	require.Equal(t, uint64(2), r.Stats().Overflowed)

	// A message whose TTL is over before it may be delivered is dropped.
	r2, hs2 := startRelay(t, RelayConfig{Faults: Faults{DelayMin: 50 * time.Millisecond, DelayMax: 50 * time.Millisecond}})
	id2, secret2 := r2.Register()
	p2 := &FCMPusher{BaseURL: hs2.URL, Project: "p", Auth: StaticBearer("any"), Client: hs2.Client(), TTL: time.Millisecond}
	require.NoError(t, p2.Push(context.Background(), validationFor(id2)))
	waitFor(t, 5*time.Second, "the message to expire", func() bool {
		_, msgs := pollRelay(t, hs2, id2, secret2, "0s")
		require.Empty(t, msgs)
		return r2.Stats().Expired == 1
	})
}

func TestRelayCloseEndsLongPolls(t *testing.T) {
	r, hs := startRelay(t, RelayConfig{})
	id, secret := r.Register()
	done := make(chan int)
	go func() {
		code, _ := pollRelay(t, hs, id, secret, "30s")
		done <- code
	}()
	r.Close()
	select {
	case code := <-done:
		require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, code)
	case <-time.After(10 * time.Second):
		t.Fatal("long-poll still waiting after Close")
	}
}

func TestDecodePushDataRejectsGarbage(t *testing.T) {
	good, err := EncodePushData(validationFor(1))
	require.NoError(t, err)
	hello, err := EncodePushData(Push{Message: protocol.Message{Kind: protocol.Hello, RegID: 1, Tc: protocol.Token{1}}})
	require.NoError(t, err)
	for name, d := range map[string]map[string]string{
		"no frame":   {},
		"not base64": {"frame": "!!"},
		"not frame":  {"frame": "AAAA"},
		"huge":       {"frame": strings.Repeat("A", 4*protocol.MaxFrame)},
		"upstream":   hello,
		"bad id":     {"frame": good["frame"], "id": "-1"},
	} {
		_, err := DecodePushData(d)
		require.Error(t, err, name)
	}
}

func TestFaultsValidate(t *testing.T) {
	require.NoError(t, Faults{Loss: 0.2, Dup: 1, DelayMax: time.Second}.Validate())
	require.Error(t, Faults{Loss: 1.5}.Validate())
	require.Error(t, Faults{Dup: -0.1}.Validate())
	require.Error(t, Faults{DelayMin: 2, DelayMax: 1}.Validate())
}
