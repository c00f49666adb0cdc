package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// /readyz answers anyone with each dependency's state, but the text of a
// failure (addresses, user names, versions) only to an administrator.
func TestReadyzShowsErrorsOnlyToAdministrators(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true}); err != nil {
			return err
		}
		for _, s := range []postgres.Staff{{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: true},
			{ID: "admin-1", Name: "Ade Admin", Email: "ade@london.example.org", Role: "admin", Active: true}} {
			if err := tx.PutStaff(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	token := func(staff string) string {
		plain, hash := auth.NewSecret(auth.TokenPrefix)
		if _, err := db.CreateToken(ctx, staff, "probe", hash, nil); err != nil {
			t.Fatal(err)
		}
		return plain
	}
	const secret = "dial tcp 10.20.30.40:7233: connect: connection refused"
	sessions := &auth.Sessions{DB: db, Cookie: auth.CookieConfig{Name: "tg_session"}, Idle: time.Hour, Absolute: 8 * time.Hour}
	h := New(Deps{Cases: &casework.Service{DB: db}, DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: &auth.Authenticator{DB: db, Sessions: sessions}, Sessions: sessions,
		Checks: []Check{{Name: "postgres", Fn: db.Ping}, {Name: "temporal", Fn: func(context.Context) error { return errors.New(secret) }}}})

	for _, c := range []struct {
		who        string
		bearer     string
		wantErrors bool
	}{{"nobody", "", false}, {"an officer", token("officer-1"), false}, {"an administrator", token("admin-1"), true}} {
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503", c.who, w.Code)
		}
		var got Readiness
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.Ready || len(got.Dependencies) != 2 || got.Dependencies[0].State != "up" || got.Dependencies[1].State != "down" {
			t.Errorf("%s: %+v", c.who, got)
		}
		if shown := strings.Contains(w.Body.String(), "10.20.30.40"); shown != c.wantErrors {
			t.Errorf("%s: error text shown %t, want %t: %s", c.who, shown, c.wantErrors, w.Body)
		}
	}
}
