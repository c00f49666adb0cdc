package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// signInServer is the API over a fresh database with one officer who has
// a password.
func signInServer(t *testing.T) (http.Handler, *auth.Sessions) {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true}); err != nil {
			return err
		}
		return tx.PutStaff(ctx, postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer",
			Team: "pvi-resettlement", Active: true})
	}); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "officer-1", hash); err != nil {
		t.Fatal(err)
	}
	sessions := &auth.Sessions{DB: db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour, Absolute: 8 * time.Hour}
	r := chi.NewRouter()
	Routes(r, Deps{Cases: &casework.Service{DB: db}, DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: &auth.Authenticator{DB: db, Sessions: sessions}, Sessions: sessions,
		SignInRate: func(h http.Handler) http.Handler { return h }})
	return r, sessions
}

// signIn posts the officer's password, sending cookie when there is one,
// and returns the session cookie set.
func signIn(t *testing.T, h http.Handler, cookie *http.Cookie) (*http.Cookie, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{"login":"officer-1","password":"a long enough password"}`))
	req.Header.Set("Content-Type", "application/json")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	res := w.Result()
	for _, c := range res.Cookies() {
		if c.Name == "tg_session" {
			return c, res.Header.Get("Set-Cookie")
		}
	}
	t.Fatal("no session cookie")
	return nil, ""
}

func me(h http.Handler, c *http.Cookie) int {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	req.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// Closing the browser ends the session: the cookie has no lifetime of its
// own (the server's idle and absolute limits still end it). Signing in
// again from a browser ends the session it had, which a shared PC's
// next user would otherwise inherit.
func TestSessionCookieAndSignInAgain(t *testing.T) {
	h, _ := signInServer(t)
	first, header := signIn(t, h, nil)
	if first.MaxAge != 0 || !first.Expires.IsZero() || strings.Contains(strings.ToLower(header), "max-age") || strings.Contains(strings.ToLower(header), "expires") {
		t.Errorf("the session cookie outlives the browser: %s", header)
	}
	if !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" {
		t.Errorf("cookie %s", header)
	}
	if code := me(h, first); code != http.StatusOK {
		t.Fatalf("first session: %d", code)
	}
	second, _ := signIn(t, h, first)
	if second.Value == first.Value {
		t.Fatal("the same session again")
	}
	if code := me(h, first); code != http.StatusUnauthorized {
		t.Errorf("the session signed in over still answers %d", code)
	}
	if code := me(h, second); code != http.StatusOK {
		t.Errorf("the new session: %d", code)
	}
}
