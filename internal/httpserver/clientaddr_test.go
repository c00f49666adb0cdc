package httpserver

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/auth"
)

// The sign-in limit counts per client address, and a client cannot choose
// its address by sending proxy headers: X-Forwarded-For is believed only
// from a configured proxy, and True-Client-IP and X-Real-IP never.
func TestSignInLimitCannotBeDodgedWithProxyHeaders(t *testing.T) {
	h := New(Deps{Auth: &auth.Authenticator{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SignInLimit: 2,
		TrustedProxies: auth.MustTrustedProxies("10.0.0.0/8")})
	post := func(remote string, headers ...string) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	// A client on the internet, not behind our proxy, spoofing headers.
	for i, hdr := range [][]string{
		{"X-Forwarded-For", "198.51.100.1"},
		{"X-Real-IP", "198.51.100.2"},
		{"True-Client-IP", "198.51.100.3"},
	} {
		code := post("203.0.113.9:4000", hdr...)
		if want := http.StatusUnprocessableEntity; i >= 2 {
			if code != http.StatusTooManyRequests {
				t.Errorf("attempt %d with %s: %d, want 429: the header chose the address", i+1, hdr[0], code)
			}
		} else if code != want {
			t.Errorf("attempt %d: %d", i+1, code)
		}
	}
	// Through the trusted proxy, each real client has its own allowance,
	// and one cannot spend another's by forging the left of the header.
	for i := range 2 {
		if code := post("10.1.2.3:5000", "X-Forwarded-For", "192.0.2.50, 198.51.100.77"); code != http.StatusUnprocessableEntity {
			t.Fatalf("proxied attempt %d: %d", i+1, code)
		}
	}
	if code := post("10.1.2.3:5000", "X-Forwarded-For", "192.0.2.99, 198.51.100.77"); code != http.StatusTooManyRequests {
		t.Errorf("the same client with a different forged hop: %d, want 429", code)
	}
	if code := post("10.1.2.3:5000", "X-Forwarded-For", "198.51.100.78"); code != http.StatusUnprocessableEntity {
		t.Errorf("another client through the proxy: %d", code)
	}
}
