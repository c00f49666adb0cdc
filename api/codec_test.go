package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/throughgate/throughgate/internal/codec"
)

// TestCodecServerForAdministrators: the Temporal UI's codec server opens
// sealed payloads for a signed-in administrator only, audits each use, and
// lets only the configured UI origin read its answers.
func TestCodecServerForAdministrators(t *testing.T) {
	key, _ := codec.NewKey("k1")
	c, err := codec.New([]codec.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	f := newAccounts(t, func(d *Deps) { d.Codec, d.CodecOrigin = c, "http://127.0.0.1:8233" })
	sealed, _ := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"case_id":"k3m9x2p7qa"}`)}})
	body, _ := json.Marshal(map[string]any{"payloads": []map[string]any{{"metadata": map[string]string{
		"encoding": "YmluYXJ5L2VuY3J5cHRlZA==", "encryption-key-id": "azE=", "encryption-cipher": "QUVTLTI1Ni1HQ00="}, "data": sealed[0].GetData()}}})

	officer := f.fullSession("officer-1")
	f.want(f.call(http.MethodPost, "/api/v1/codec/decode", string(body), officer), http.StatusForbidden, "an officer")
	if !f.audited("officer-1", "codec.denied", "/api/v1/codec/decode") {
		t.Error("the refusal is not audited")
	}
	admin := f.fullSession("admin-1")
	w := f.call(http.MethodPost, "/api/v1/codec/decode", string(body), admin)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "eyJjYXNlX2lkIjoiazNtOXgycDdxYSJ9") {
		t.Fatalf("decode as an administrator: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" || w.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("CORS headers %v", w.Header())
	}
	if !f.audited("admin-1", "codec.use", "/api/v1/codec/decode") {
		t.Error("the decode is not audited")
	}
	pre := f.call(http.MethodOptions, "/api/v1/codec/decode", "", nil)
	if pre.Code != http.StatusNoContent || !strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Errorf("preflight: %d %v", pre.Code, pre.Header())
	}

	off := newAccounts(t)
	f.want(off.call(http.MethodPost, "/api/v1/codec/decode", string(body), off.fullSession("admin-1")), http.StatusNotFound, "no codec")
}
