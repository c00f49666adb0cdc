package codec

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func keys(t *testing.T, ids ...string) []Key {
	t.Helper()
	var ks []Key
	for _, id := range ids {
		k, err := NewKey(id)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

// TestSealAndOpen: a payload sealed is unreadable without the key, opens to
// the same value, and keeps nothing of its plaintext in clear.
func TestSealAndOpen(t *testing.T) {
	c, err := New(keys(t, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	dc := c.DataConverter()
	p, err := dc.ToPayload(map[string]string{"case_id": "k3m9x2p7qa", "text": "Case paused: Awaiting a court date"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.GetData(), []byte("k3m9x2p7qa")) || bytes.Contains(p.GetData(), []byte("court")) ||
		string(p.GetMetadata()["encoding"]) != "binary/encrypted" || string(p.GetMetadata()["encryption-key-id"]) != "k1" {
		t.Fatalf("sealed payload shows its contents or lacks its key id: %q %q", p.GetMetadata(), p.GetData())
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["case_id"] != "k3m9x2p7qa" {
		t.Fatalf("opened %v (%v)", back, err)
	}
	// Tampering is detected, as is a key id swapped for another's.
	bad := &commonpb.Payload{Metadata: p.GetMetadata(), Data: append([]byte(nil), p.GetData()...)}
	bad.Data[len(bad.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{bad}); err == nil {
		t.Error("a tampered payload opened")
	}
}

// TestKeysRotate: the first key seals; every listed key opens what it
// sealed; a payload from before encryption passes through.
func TestKeysRotate(t *testing.T) {
	old := keys(t, "2026-01")
	oldCodec, _ := New(old)
	sealedOld, err := oldCodec.Encode([]*commonpb.Payload{{Data: []byte(`"hello"`), Metadata: map[string][]byte{"encoding": []byte("json/plain")}}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := New(append(keys(t, "2026-07"), old...))
	sealedNew, _ := rotated.Encode([]*commonpb.Payload{{Data: []byte(`"x"`)}})
	if string(sealedNew[0].GetMetadata()["encryption-key-id"]) != "2026-07" {
		t.Errorf("sealed with %q, want the first key", sealedNew[0].GetMetadata()["encryption-key-id"])
	}
	plain := &commonpb.Payload{Data: []byte(`"clear"`), Metadata: map[string][]byte{"encoding": []byte("json/plain")}}
	out, err := rotated.Decode([]*commonpb.Payload{sealedOld[0], plain})
	if err != nil || string(out[0].GetData()) != `"hello"` || out[1] != plain {
		t.Fatalf("decoded %v (%v)", out, err)
	}
	if _, err := oldCodec.Decode(sealedNew); err == nil || !strings.Contains(err.Error(), "2026-07") {
		t.Errorf("a payload sealed with an unlisted key: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	k := keys(t, "a")[0]
	good := k.String() + "," + keys(t, "b.2")[0].String()
	if ks, err := ParseKeys(good); err != nil || len(ks) != 2 || ks[0].ID != "a" {
		t.Fatalf("%v %v", ks, err)
	}
	for _, bad := range []string{"", "a", "a:", "a:bm90IDMyIGJ5dGVz", "a b:" + k.String()[2:], k.String() + "," + k.String(), ":" + k.String()[2:]} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

// TestCodecServerRoundTrip: the codec server Temporal's Web UI calls decodes
// what the workers encoded.
func TestCodecServerRoundTrip(t *testing.T) {
	c, _ := New(keys(t, "k1"))
	sealed, _ := c.Encode([]*commonpb.Payload{{Data: []byte(`"hi"`), Metadata: map[string][]byte{"encoding": []byte("json/plain")}}})
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: serve(t, c)})
	out, err := remote.Decode(sealed)
	if err != nil || string(out[0].GetData()) != `"hi"` {
		t.Fatalf("%v %v", out, err)
	}
}

func serve(t *testing.T, c *Codec) string {
	t.Helper()
	s := httptest.NewServer(converter.NewPayloadCodecHTTPHandler(c))
	t.Cleanup(s.Close)
	return s.URL
}
