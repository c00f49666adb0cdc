package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
)

// provider is a small OpenID Connect provider: discovery, keys, an
// authorisation endpoint that signs in whoever the test says, and a token
// endpoint issuing RS256 ID tokens with the claims the test chose.
type provider struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu        sync.Mutex
	claims    map[string]any // the next sign-in's subject, email, email_verified, acr
	codes     map[string]string
	acrValues string // asked for in the last authorisation request
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		code := base64.RawURLEncoding.EncodeToString(b)
		p.mu.Lock()
		p.codes[code], p.acrValues = q.Get("nonce"), q.Get("acr_values")
		p.mu.Unlock()
		to, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"code": {code}, "state": {q.Get("state")}}
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		nonce, ok := p.codes[r.FormValue("code")]
		delete(p.codes, r.FormValue("code"))
		claims := map[string]any{}
		for k, v := range p.claims {
			claims[k] = v
		}
		p.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		now := time.Now()
		claims["iss"], claims["aud"], claims["iat"], claims["exp"], claims["nonce"] = p.srv.URL, "throughgate", now.Unix(), now.Add(5*time.Minute).Unix(), nonce
		body, _ := json.Marshal(claims)
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
		obj, err := signer.Sign(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		idToken, _ := obj.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// signIn runs a single sign-on as the claims say, through the pages, and
// returns the status of the callback and the session it started (nil for
// none).
func (p *provider) signIn(t *testing.T, s *signInSite, claims map[string]any) (int, *http.Cookie) {
	t.Helper()
	p.mu.Lock()
	p.claims = claims
	p.mu.Unlock()
	w, _ := s.do(http.MethodGet, "/auth/oidc/login", nil, nil)
	if w.Code != http.StatusFound {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var flow *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "tg_oidc" {
			flow = c
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	w, c := s.do(http.MethodGet, "/auth/oidc/callback?"+back.RawQuery, nil, flow)
	if w.Code != http.StatusSeeOther {
		c = nil
	}
	return w.Code, c
}

// Single sign-on finds an account by the provider's (issuer, subject): the
// first sign-in links it, by an email address the provider says it
// verified; after that an email address changed at the provider cannot
// take anyone else's account, nor can a new account there with someone's
// address. OIDC_REQUIRED_ACR is asked for and checked.
func TestSingleSignOnLinksBySubject(t *testing.T) {
	p := newProvider(t)
	sso := &auth.OIDC{Issuer: p.srv.URL, ClientID: "throughgate", ClientSecret: "secret", RedirectURL: "http://127.0.0.1/auth/oidc/callback"}
	s := newSignInSite(t, sso)
	ctx := context.Background()
	whoIs := func(c *http.Cookie) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		pr, err := (&auth.Authenticator{DB: s.db, Sessions: &auth.Sessions{DB: s.db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour}}).Authenticate(req)
		if err != nil {
			t.Fatal(err)
		}
		return pr.ID()
	}

	// Not verified (false, or not said): no account is linked.
	for _, verified := range []any{false, nil} {
		claims := map[string]any{"sub": "sub-olu", "email": "olu@pvi.example.org"}
		if verified != nil {
			claims["email_verified"] = verified
		}
		if code, _ := p.signIn(t, s, claims); code != http.StatusForbidden {
			t.Errorf("email_verified %v: %d", verified, code)
		}
	}
	if _, err := s.db.StaffByIdentity(ctx, p.srv.URL, "sub-olu"); err == nil {
		t.Fatal("linked by an unverified email address")
	}
	// The first sign-in links Olu's account to sub-olu.
	code, c := p.signIn(t, s, map[string]any{"sub": "sub-olu", "email": "OLU@pvi.example.org", "email_verified": true})
	if code != http.StatusSeeOther || whoIs(c) != "officer-1" {
		t.Fatalf("first sign-in: %d", code)
	}
	// Olu's address changed at the provider to the manager's: still Olu.
	if code, c = p.signIn(t, s, map[string]any{"sub": "sub-olu", "email": "mo@pvi.example.org", "email_verified": true}); code != http.StatusSeeOther || whoIs(c) != "officer-1" {
		t.Errorf("after an email change at the provider: %d", code)
	}
	// Another subject with Olu's address cannot have Olu's account.
	if code, _ = p.signIn(t, s, map[string]any{"sub": "sub-impostor", "email": "olu@pvi.example.org", "email_verified": true}); code != http.StatusForbidden {
		t.Errorf("a second subject with a linked account's address: %d", code)
	}
	if !auditedIn(t, s.db, "officer-1", "oidc.link") || !auditedIn(t, s.db, "officer-1", "signin.failed") {
		t.Error("the link and the refusal are not audited")
	}

	// An acr is required: asked for, and a sign-in without it refused.
	sso.RequiredACR = "urn:example:mfa"
	if code, _ = p.signIn(t, s, map[string]any{"sub": "sub-olu", "email": "olu@pvi.example.org", "email_verified": true}); code != http.StatusUnauthorized {
		t.Errorf("without the acr: %d", code)
	}
	if p.acrValues != "urn:example:mfa" {
		t.Errorf("acr_values %q", p.acrValues)
	}
	if code, _ = p.signIn(t, s, map[string]any{"sub": "sub-olu", "email": "olu@pvi.example.org", "email_verified": true, "acr": "urn:example:pwd"}); code != http.StatusUnauthorized {
		t.Errorf("with another acr: %d", code)
	}
	if code, c = p.signIn(t, s, map[string]any{"sub": "sub-olu", "acr": "urn:example:mfa"}); code != http.StatusSeeOther || whoIs(c) != "officer-1" {
		t.Errorf("with the acr (and no email claim, not needed once linked): %d", code)
	}
}

func auditedIn(t *testing.T, db *postgres.DB, actor, action string) bool {
	t.Helper()
	log, err := db.AuditLog(context.Background(), postgres.AuditFilter{Actor: actor, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if strings.EqualFold(e.Action, action) {
			return true
		}
	}
	return false
}
