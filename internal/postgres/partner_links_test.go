package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13: consent, partner links, and assignment emails held for a
// digest (migration 015).

func TestConsentOnePerPurposeAndWithdrawal(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	a, b := twoCases(t, db)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c, created, err := db.RecordConsent(ctx, postgres.Consent{CaseID: a, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 3, 1),
		RecordedBy: "officer-1"}, "k1")
	if err != nil || !created || !c.Live() || c.GivenOn != resettlement.D(2026, 3, 1) || c.RecordedBy != "officer-1" {
		t.Fatalf("record: %+v %v %v", c, created, err)
	}
	// A retry with the same key is the first row; another key is refused.
	again, created, err := db.RecordConsent(ctx, postgres.Consent{CaseID: a, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 3, 1),
		RecordedBy: "officer-1"}, "k1")
	if err != nil || created || again.ID != c.ID {
		t.Fatalf("retry: %+v %v %v", again, created, err)
	}
	if _, _, err := db.RecordConsent(ctx, postgres.Consent{CaseID: a, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 3, 1),
		RecordedBy: "officer-1"}, "k2"); !errors.Is(err, postgres.ErrConsentExists) {
		t.Fatalf("a second live consent: %v", err)
	}
	// Partner purposes compare without regard to case; other cases are theirs.
	if _, _, err := db.RecordConsent(ctx, postgres.Consent{CaseID: a, Purpose: "partner:Islington Jobcentre", GivenOn: resettlement.D(2026, 3, 1),
		RecordedBy: "officer-1"}, "k3"); err != nil {
		t.Fatal(err)
	}
	if has, _ := db.HasConsent(ctx, a, "partner:islington jobcentre"); !has {
		t.Error("partner consent not found ignoring case")
	}
	if has, _ := db.HasConsent(ctx, b, "housing-referral"); has {
		t.Error("case b has case a's consent")
	}
	if _, err := pgtest.AsApp(t, db).Exec(ctx, `insert into consents (case_id, purpose, given_on, recorded_by) values ($1, 'marketing', '2026-03-01', 'x')`, a); err == nil {
		t.Error("an unknown purpose was stored")
	}

	// A link sent under the consent is revoked when it is withdrawn; one
	// sent under another purpose is not.
	l1 := newLink(t, db, a, "housing-referral", "l1", now)
	l2 := newLink(t, db, a, "partner:Islington Jobcentre", "l2", now)
	w, revoked, err := db.WithdrawConsent(ctx, a, c.ID, resettlement.D(2026, 3, 2), "officer-3", now)
	if err != nil || w.Live() || w.WithdrawnBy != "officer-3" || w.WithdrawnOn != resettlement.D(2026, 3, 2) {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if len(revoked) != 1 || revoked[0] != l1.ID {
		t.Errorf("revoked %v, want [%s]", revoked, l1.ID)
	}
	if got, _ := db.PartnerLink(ctx, a, l1.ID); got.RevokedAt == nil || got.RevokeReason != "consent withdrawn" || got.RevokedBy != "officer-3" {
		t.Errorf("link under the withdrawn consent: %+v", got)
	}
	if got, _ := db.PartnerLink(ctx, a, l2.ID); got.RevokedAt != nil {
		t.Errorf("a link under another consent was revoked: %+v", got)
	}
	// Withdrawing again changes nothing; the purpose may be consented afresh.
	w2, revoked, err := db.WithdrawConsent(ctx, a, c.ID, resettlement.D(2026, 3, 3), "officer-1", now.Add(time.Hour))
	if err != nil || len(revoked) != 0 || w2.WithdrawnBy != "officer-3" {
		t.Errorf("second withdrawal: %+v %v %v", w2, revoked, err)
	}
	if has, _ := db.HasConsent(ctx, a, "housing-referral"); has {
		t.Error("a withdrawn consent still counts")
	}
	if _, created, err := db.RecordConsent(ctx, postgres.Consent{CaseID: a, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 3, 4),
		RecordedBy: "officer-1"}, "k4"); err != nil || !created {
		t.Fatalf("consent again after withdrawal: %v", err)
	}
	all, err := db.Consents(ctx, a)
	if err != nil || len(all) != 3 {
		t.Fatalf("consents %+v %v", all, err)
	}
	if _, _, err := db.WithdrawConsent(ctx, b, c.ID, resettlement.D(2026, 3, 2), "officer-1", now); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("withdrawing another case's consent: %v", err)
	}
}

// newLink stores a link on a case's housing referral step.
func newLink(t *testing.T, db *postgres.DB, caseID, purpose, id string, now time.Time) postgres.PartnerLink {
	t.Helper()
	l, created, err := db.CreatePartnerLink(context.Background(), postgres.NewPartnerLink{ID: id, CaseID: caseID, StepID: "housing-referral",
		Purpose: purpose, PartnerName: "Islington housing options", PartnerEmail: "housing@islington.example.org",
		Ask: "Has the referral been accepted?", TokenHash: bytes.Repeat([]byte(id), 16)[:32], CodeHash: []byte("code-" + id),
		CreatedBy: "officer-1", ExpiresAt: now.Add(14 * 24 * time.Hour), RequestID: "req-" + id})
	if err != nil || !created {
		t.Fatalf("create link %s: %v (created %v)", id, err, created)
	}
	return l
}

func TestPartnerLinkLifecycle(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	a, _ := twoCases(t, db)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l := newLink(t, db, a, "housing-referral", "link0001", now)
	if l.Ask != "Has the referral been accepted?" || l.FailedAttempts != 0 || l.AnsweredAt != nil {
		t.Fatalf("link %+v", l)
	}
	// What is asked is a note of the case, like every text a person types.
	if n := pgtest.Int(t, db, `select count(*) from notes where case_id = $1 and body = 'Has the referral been accepted?'`, a); n != 1 {
		t.Errorf("the ask is in %d notes", n)
	}
	// A retry of the same request stores nothing more.
	again, created, err := db.CreatePartnerLink(ctx, postgres.NewPartnerLink{ID: "other01", CaseID: a, StepID: "housing-referral",
		Purpose: "housing-referral", PartnerName: "x", PartnerEmail: "x@example.org", Ask: "x", TokenHash: []byte("another token hash 0123456789abc"),
		CodeHash: []byte("c"), CreatedBy: "officer-1", ExpiresAt: now, RequestID: "req-link0001"})
	if err != nil || created || again.ID != l.ID {
		t.Fatalf("retry: %+v %v %v", again, created, err)
	}
	if n := pgtest.Int(t, db, `select count(*) from partner_links`); n != 1 {
		t.Errorf("%d links after a retry", n)
	}
	byToken, err := db.PartnerLinkByToken(ctx, bytes.Repeat([]byte("link0001"), 4))
	if err != nil || byToken.ID != l.ID {
		t.Fatalf("by token: %+v %v", byToken, err)
	}
	if _, err := db.PartnerLinkByToken(ctx, []byte("nothing")); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("an unknown token: %v", err)
	}
	// Five wrong references lock it.
	for i := 1; i <= postgres.MaxReferenceAttempts; i++ {
		n, locked, err := db.FailReference(ctx, l.ID, now)
		if err != nil || n != i || locked != (i == postgres.MaxReferenceAttempts) {
			t.Fatalf("attempt %d: %d %v %v", i, n, locked, err)
		}
	}
	if _, _, err := db.FailReference(ctx, l.ID, now); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("a locked link counted another attempt: %v", err)
	}
	if ok, _ := db.ClaimAnswer(ctx, l.ID, "complete", now); ok {
		t.Error("a locked link took an answer")
	}

	// Answered once; released when the case refused it; expired links take none.
	l2 := newLink(t, db, a, "housing-referral", "link0002", now)
	if ok, err := db.ClaimAnswer(ctx, l2.ID, "complete", now); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := db.ClaimAnswer(ctx, l2.ID, "waiting", now); ok {
		t.Error("a link took a second answer")
	}
	if ok, _ := db.RevokePartnerLink(ctx, a, l2.ID, "officer-1", "revoked", now); ok {
		t.Error("an answered link was revoked")
	}
	if err := db.ReleaseAnswer(ctx, l2.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.ClaimAnswer(ctx, l2.ID, "waiting", now.Add(15*24*time.Hour)); ok {
		t.Error("an expired link took an answer")
	}
	if ok, err := db.RevokePartnerLink(ctx, a, l2.ID, "officer-1", "revoked", now); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if ok, _ := db.ClaimAnswer(ctx, l2.ID, "waiting", now); ok {
		t.Error("a revoked link took an answer")
	}
	links, err := db.PartnerLinks(ctx, a, "housing-referral")
	if err != nil || len(links) != 2 {
		t.Fatalf("links %+v %v", links, err)
	}
	if links, _ := db.PartnerLinks(ctx, a, "gp-registration"); len(links) != 0 {
		t.Errorf("another step's links: %+v", links)
	}
	if name, err := db.PartnerLinkName(ctx, l.ID); err != nil || name != "Islington housing options" {
		t.Errorf("name %q %v", name, err)
	}
}

// "assigned" is a kind of email a person may turn off.
func TestAssignedEmailsCanBeMuted(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.PutTeam(ctx, postgres.Team{ID: "pvi-resettlement", Name: "Pentonville resettlement", Establishment: "PVI", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutStaff(ctx, postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@pvi.example.org", Role: "officer",
		Team: "pvi-resettlement", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMuted(ctx, "officer-1", []string{"assigned", "reminder"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMuted(ctx, "officer-1", []string{"escalation"}); err == nil {
		t.Error("escalations were muted")
	}
}

// An assignment held for a digest is listed by the digest that carries it
// and folded into it; one held after the digest was written waits.
func TestHeldAssignmentsFoldIntoTheirDigest(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	a, _ := twoCases(t, db)
	hold := func(key string) {
		t.Helper()
		if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: a, AlarmKey: key, Recipient: "olu@pvi.example.org", RecipientID: "officer-1",
			Kind: "assigned", Template: "assigned", Data: map[string]string{"case_ref": a}, Digest: true}); err != nil {
			t.Fatal(err)
		}
	}
	hold("assigned:benefits:r1")
	if _, err := db.EnqueueEmail(ctx, postgres.Email{CaseID: a, AlarmKey: "reminder-1", Recipient: "olu@pvi.example.org", RecipientID: "officer-1",
		Kind: "reminder", Template: "alert", Data: map[string]string{}, Digest: true}); err != nil {
		t.Fatal(err)
	}
	held, err := db.HeldEmails(ctx, "olu@pvi.example.org", "assigned")
	if err != nil || len(held) != 1 {
		t.Fatalf("held %+v %v", held, err)
	}
	var data map[string]string
	if json.Unmarshal(held[0].Data, &data); data["case_ref"] != a {
		t.Errorf("held data %s", held[0].Data)
	}
	id, written, err := db.EnqueueDigestOnce(ctx, "digest/2026-03-02", "olu@pvi.example.org", "officer-1", map[string]string{})
	if err != nil || !written {
		t.Fatal(err)
	}
	if _, again, _ := db.EnqueueDigestOnce(ctx, "digest/2026-03-02", "olu@pvi.example.org", "officer-1", map[string]string{}); again {
		t.Error("a second digest for the day")
	}
	hold("assigned:gp-registration:r2") // after the digest was written
	if err := db.FoldHeldIntoDigest(ctx, "olu@pvi.example.org", id, "assigned", []int64{held[0].ID}); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox where state = 'digested' and digest_id = $1`, id); n != 2 {
		t.Errorf("%d rows folded, want the listed assignment and the reminder", n)
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox where state = 'digest' and alarm_key = 'assigned:gp-registration:r2'`); n != 1 {
		t.Error("an assignment the digest did not list was folded into it")
	}
}
