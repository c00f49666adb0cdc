package api

import (
	"net/http"

	"go.temporal.io/sdk/converter"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// The codec server Temporal's Web UI calls to show workflow payloads, which
// the workers encrypt (package codec): POST {base}/decode and {base}/encode
// with Temporal's payloads JSON, for signed-in administrators only, each use
// audited. In the UI's settings, the codec endpoint is this address's
// /api/v1/codec, with "include cross-origin credentials" on so the
// administrator's session cookie goes with it; CODEC_CORS_ORIGIN names the
// UI's origin.

var errNoCodec = casework.Errorf(casework.NotFound, "Workflow payloads are not encrypted here (PAYLOAD_KEYS is not set), so there is nothing to decode.")

// codecServer answers the UI's decode and encode requests.
func (a *app) codecServer(w http.ResponseWriter, r *http.Request) error {
	a.allowCodecOrigin(w)
	p := auth.FromContext(r.Context())
	if !p.IsAdmin() {
		_ = a.Cases.Audit(r.Context(), p, "codec.denied", "", r.URL.Path)
		return errNotAdmin
	}
	if a.Codec == nil {
		return errNoCodec
	}
	if err := a.Cases.Audit(r.Context(), p, "codec.use", "", r.URL.Path+" namespace="+r.Header.Get("X-Namespace")); err != nil {
		return err
	}
	converter.NewPayloadCodecHTTPHandler(a.Codec).ServeHTTP(w, r)
	return nil
}

// codecPreflight answers the browser's CORS preflight for the codec server,
// which carries no credentials.
func (a *app) codecPreflight(w http.ResponseWriter, _ *http.Request) {
	if a.allowCodecOrigin(w) {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowCodecOrigin lets the Temporal UI's origin call the codec server with
// credentials; no other origin.
func (a *app) allowCodecOrigin(w http.ResponseWriter) bool {
	if a.CodecOrigin == "" {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", a.CodecOrigin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	w.Header().Add("Vary", "Origin")
	return true
}
