package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/postgres"
)

// fakeProvider is a small OpenID Connect provider on real HTTP: discovery,
// keys, an authorisation endpoint that signs in whoever it is told to, and
// a token endpoint that checks the client secret and the PKCE verifier and
// issues RS256-signed ID tokens.
type fakeProvider struct {
	srv              *httptest.Server
	key, otherKey    *rsa.PrivateKey
	clientID, secret string

	mu        sync.Mutex
	email     string // whom the next sign-in is for
	badNonce  bool
	wrongKey  bool
	audience  string // "" : the client id
	codes     map[string]pending
	exchanges int
}

type pending struct{ nonce, challenge, redirect string }

func newFakeProvider(t *testing.T) *fakeProvider {
	f := &fakeProvider{clientID: "throughgate", secret: "client-secret", codes: map[string]pending{}}
	var err error
	if f.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad authorisation request", http.StatusBadRequest)
			return
		}
		code := randomCode()
		f.mu.Lock()
		f.codes[code] = pending{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		f.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		v := to.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		if id != f.clientID || secret != f.secret {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		f.mu.Lock()
		p, found := f.codes[r.FormValue("code")]
		delete(f.codes, r.FormValue("code"))
		f.exchanges++
		email, badNonce, wrongKey, aud := f.email, f.badNonce, f.wrongKey, f.audience
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if !found || p.redirect != r.FormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		nonce := p.nonce
		if badNonce {
			nonce = "not-the-nonce"
		}
		if aud == "" {
			aud = f.clientID
		}
		key := f.key
		if wrongKey {
			key = f.otherKey
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": f.srv.URL, "sub": "user-" + email, "aud": aud, "iat": now.Unix(),
			"exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce, "email": email, "email_verified": true})
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		obj, err := signer.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		idToken, _ := obj.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": randomCode(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
	})
	f.srv = httptest.NewServer(mux)
	return f
}

func randomCode() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f *fakeProvider) set(fn func(*fakeProvider)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// browser follows redirects and keeps cookies, as a browser does.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOIDCSignIn signs in through an OpenID Connect provider on real HTTP
// with real signed ID tokens, and refuses every way the exchange can be
// wrong.
func TestOIDCSignIn(t *testing.T) {
	f := newFakeProvider(t)
	defer f.srv.Close()
	// A fixed port, so BASE_URL (and so the redirect address) is right.
	cfg := devConfig(t, filepath.Join(tempDir(t), "data"), "--http-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--oidc-issuer", f.srv.URL, "--oidc-client-id", f.clientID, "--oidc-client-secret", f.secret, "--signin-rate", "50")
	d := startDev(t, cfg)
	defer d.Stop()

	// Olu signs in at the provider with the email the directory holds.
	f.set(func(f *fakeProvider) { f.email = "Olu.Officer@pvi.example.org" })
	b := browser()
	status, body := get(t, b, d.URL+"/auth/oidc/login")
	if status != http.StatusOK { // signed in and sent to the home page
		t.Fatalf("after sign-in: %d %.300s", status, body)
	}
	status, body = get(t, b, d.URL+"/api/v1/me")
	var me api.Me
	if status != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil || me.Staff.ID != "officer-1" || me.Via != "session" {
		t.Fatalf("/me after single sign-on: %d %s", status, body)
	}

	refused := func(what string, want int, setup func(*fakeProvider)) {
		t.Helper()
		f.set(func(f *fakeProvider) {
			f.email, f.badNonce, f.wrongKey, f.audience = "olu.officer@pvi.example.org", false, false, ""
		})
		f.set(setup)
		b := browser()
		status, body := get(t, b, d.URL+"/auth/oidc/login")
		if status != want {
			t.Errorf("%s: status %d, want %d: %s", what, status, want, body)
		}
		if status, _ := get(t, b, d.URL+"/api/v1/me"); status != http.StatusUnauthorized {
			t.Errorf("%s: signed in all the same (%d)", what, status)
		}
	}
	refused("unknown email", http.StatusForbidden, func(f *fakeProvider) { f.email = "stranger@example.org" })
	refused("replayed nonce", http.StatusUnauthorized, func(f *fakeProvider) { f.badNonce = true })
	refused("token signed with another key", http.StatusUnauthorized, func(f *fakeProvider) { f.wrongKey = true })
	refused("token for another client", http.StatusUnauthorized, func(f *fakeProvider) { f.audience = "someone-else" })
	refused("wrong client secret", http.StatusUnauthorized, func(f *fakeProvider) { f.secret = "not-it" })
	f.set(func(f *fakeProvider) { f.secret = "client-secret" })

	// A callback this browser did not start (login CSRF) is refused.
	status, _ = get(t, browser(), d.URL+"/auth/oidc/callback?code=x&state=forged")
	if status != http.StatusBadRequest {
		t.Errorf("forged callback: %d", status)
	}
	// The sign-ins are audited.
	entries, err := d.DB.AuditLog(t.Context(), postgresAuditFilter("signin"))
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit %v %d", err, len(entries))
	}
	methods := map[string]int{}
	for _, e := range entries {
		methods[e.Action+" "+e.Detail]++
	}
	if methods["signin method=oidc"] != 1 || methods["signin.failed method=oidc"] < 3 {
		t.Errorf("audited sign-ins %v", methods)
	}
}

func postgresAuditFilter(action string) postgres.AuditFilter {
	return postgres.AuditFilter{Action: action, Limit: 100}
}
