package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

func oneOfficer(t *testing.T) (*postgres.DB, context.Context) {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.PutStaff(ctx, postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "admin", Active: true}); err != nil {
		t.Fatal(err)
	}
	return db, ctx
}

// A TOTP step is accepted once, however many requests race with it; a
// recovery code is used once; enrolment is confirmed once, and a confirmed
// enrolment is not replaced by starting another.
func TestTOTPStepsAndRecoveryCodesAreSingleUse(t *testing.T) {
	db, ctx := oneOfficer(t)
	if err := db.StartTOTP(ctx, "officer-1", []byte("first secret")); err != nil {
		t.Fatal(err)
	}
	if err := db.StartTOTP(ctx, "officer-1", []byte("second secret")); err != nil {
		t.Fatalf("restarting an unconfirmed enrolment: %v", err)
	}
	m, err := db.TOTP(ctx, "officer-1")
	if err != nil || string(m.Secret) != "second secret" || m.Confirmed {
		t.Fatalf("%+v %v", m, err)
	}
	if ok, err := db.UseTOTPStep(ctx, "officer-1", 100); ok || err != nil {
		t.Fatalf("a step accepted before enrolment is confirmed: %v %v", ok, err)
	}
	codes := [][]byte{[]byte("h1"), []byte("h2")}
	if err := db.ConfirmTOTP(ctx, "officer-1", 100, codes); err != nil {
		t.Fatal(err)
	}
	if err := db.ConfirmTOTP(ctx, "officer-1", 101, codes); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("confirmed twice: %v", err)
	}
	if err := db.StartTOTP(ctx, "officer-1", []byte("attacker's secret")); !errors.Is(err, postgres.ErrExists) {
		t.Errorf("a confirmed enrolment replaced: %v", err)
	}
	if ok, _ := db.UseTOTPStep(ctx, "officer-1", 100); ok {
		t.Error("the confirming code's step accepted again")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 8 {
		wg.Go(func() {
			ok, err := db.UseTOTPStep(ctx, "officer-1", 101)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("one step accepted %d times", accepted)
	}
	if ok, _ := db.UseTOTPStep(ctx, "officer-1", 99); ok {
		t.Error("an older step accepted after a newer one")
	}
	if n, _ := db.RecoveryCodesLeft(ctx, "officer-1"); n != 2 {
		t.Errorf("%d codes left", n)
	}
	if ok, _ := db.UseRecoveryCode(ctx, "officer-1", []byte("h1")); !ok {
		t.Error("a recovery code refused")
	}
	if ok, _ := db.UseRecoveryCode(ctx, "officer-1", []byte("h1")); ok {
		t.Error("a recovery code used twice")
	}
	if n, _ := db.RecoveryCodesLeft(ctx, "officer-1"); n != 1 {
		t.Errorf("%d codes left", n)
	}
	if err := db.ReplaceRecoveryCodes(ctx, "officer-1", [][]byte{[]byte("h3")}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.UseRecoveryCode(ctx, "officer-1", []byte("h2")); ok {
		t.Error("an old code works after new ones were made")
	}
	if removed, err := db.DeleteTOTP(ctx, "officer-1"); !removed || err != nil {
		t.Fatalf("%v %v", removed, err)
	}
	if _, err := db.TOTP(ctx, "officer-1"); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("after removal: %v", err)
	}
	if n, _ := db.RecoveryCodesLeft(ctx, "officer-1"); n != 0 {
		t.Errorf("%d codes left after removal", n)
	}
}

// Changing a password ends the person's other sessions and revokes their
// tokens, and says how many.
func TestChangePasswordEndsOtherSessionsAndTokens(t *testing.T) {
	db, ctx := oneOfficer(t)
	exp := time.Now().Add(time.Hour)
	for _, h := range []string{"keep", "other-1", "other-2"} {
		if err := db.CreateSession(ctx, postgres.Session{IDHash: []byte(h), StaffID: "officer-1", ExpiresAt: exp, Method: "password"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b"} {
		if _, err := db.CreateToken(ctx, "officer-1", n, []byte("token-"+n), nil); err != nil {
			t.Fatal(err)
		}
	}
	sessions, tokens, err := db.ChangePassword(ctx, "officer-1", "$argon2id$new", []byte("keep"))
	if err != nil || sessions != 2 || tokens != 2 {
		t.Fatalf("ended %d sessions, revoked %d tokens: %v", sessions, tokens, err)
	}
	if _, err := db.SessionByHash(ctx, []byte("keep"), time.Hour); err != nil {
		t.Errorf("the current session ended: %v", err)
	}
	for _, h := range []string{"other-1", "other-2"} {
		if _, err := db.SessionByHash(ctx, []byte(h), time.Hour); !errors.Is(err, postgres.ErrNotFound) {
			t.Errorf("session %s lives on: %v", h, err)
		}
	}
	if _, err := db.TokenByHash(ctx, []byte("token-a")); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("a token lives on: %v", err)
	}
	if _, hash, _ := db.Login(ctx, "officer-1"); hash != "$argon2id$new" {
		t.Errorf("hash %q", hash)
	}
	if s, tk, err := db.ChangePassword(ctx, "nobody", "x", nil); !errors.Is(err, postgres.ErrNotFound) || s+tk != 0 {
		t.Errorf("nobody: %v", err)
	}
}

// An account is found by the provider's (issuer, subject) once linked;
// the link is made once per account and issuer.
func TestIdentityLinks(t *testing.T) {
	db, ctx := oneOfficer(t)
	if _, err := db.StaffByIdentity(ctx, "https://idp", "sub-1"); !errors.Is(err, postgres.ErrNotFound) {
		t.Fatalf("before linking: %v", err)
	}
	if linked, err := db.HasIdentity(ctx, "officer-1", "https://idp"); linked || err != nil {
		t.Fatal(linked, err)
	}
	if err := db.LinkIdentity(ctx, "https://idp", "sub-1", "officer-1", "olu@pvi.example.org"); err != nil {
		t.Fatal(err)
	}
	if s, err := db.StaffByIdentity(ctx, "https://idp", "sub-1"); err != nil || s.ID != "officer-1" {
		t.Fatalf("%+v %v", s, err)
	}
	if err := db.LinkIdentity(ctx, "https://idp", "sub-2", "officer-1", "olu@pvi.example.org"); !errors.Is(err, postgres.ErrExists) {
		t.Errorf("a second subject linked to the account: %v", err)
	}
	if linked, _ := db.HasIdentity(ctx, "officer-1", "https://idp"); !linked {
		t.Error("no link")
	}
	if err := db.LinkIdentity(ctx, "https://other-idp", "sub-1", "officer-1", ""); err != nil {
		t.Errorf("another issuer's subject: %v", err)
	}
	if err := db.PutStaff(ctx, postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "admin", Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StaffByIdentity(ctx, "https://idp", "sub-1"); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("an inactive account found: %v", err)
	}
}
