package casework

import (
	"strings"
	"testing"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 13: consent, recorded and withdrawn through the service, which
// asks no case's workflow for either. What goes through a case's workflow
// (partner links answering a step, the housing referral that needs
// consent, assignment emails) is tested on the real dev stack, in
// integration/partners_service_test.go.

// auditLines lists the audit lines of an action on a case (the filter's
// action is a prefix).
func (f *fixture) auditLines(action, caseID string) []postgres.AuditEntry {
	f.t.Helper()
	entries, err := f.s.DB.AuditLog(f.ctx, postgres.AuditFilter{Action: action, CaseID: caseID, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return entries
}

func TestConsentRecordAndWithdraw(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("consentcase2", openReq("A1111AA"))
	p := f.as("officer-1")
	for _, c := range []struct {
		r     RecordConsent
		field string
	}{
		{RecordConsent{Purpose: "marketing"}, "purpose"},
		{RecordConsent{Purpose: "partner:"}, "purpose"},
		{RecordConsent{Purpose: "partner:" + strings.Repeat("x", 101)}, "purpose"},
		{RecordConsent{Purpose: "partner:Jobcentre\u202e"}, "purpose"},
		{RecordConsent{Purpose: PurposeGPSharing, GivenOn: resettlement.DateOf(testNow).AddDays(1)}, "given_on"},
	} {
		_, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "bad", c.r)
		wantFieldError(t, err, Invalid, c.field)
	}
	c, created, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: " partner:Islington   Jobcentre "})
	if err != nil || !created || c.Purpose != "partner:Islington Jobcentre" || c.GivenOn != resettlement.DateOf(testNow) || c.RecordedBy != "officer-1" {
		t.Fatalf("record: %+v %v %v", c, created, err)
	}
	again, created, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: " partner:Islington   Jobcentre "})
	if err != nil || created || again.ID != c.ID {
		t.Errorf("retry: %+v %v %v", again, created, err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k1", RecordConsent{Purpose: PurposeGPSharing}); err == nil {
		t.Error("a key used again for another consent")
	}
	if _, _, err := f.s.RecordConsent(f.ctx, p, "consentcase2", "k2", RecordConsent{Purpose: "partner:islington jobcentre"}); Status(err) != 409 {
		t.Errorf("a second live consent: %v", err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, f.as("officer-2"), "consentcase2", "k3", RecordConsent{Purpose: PurposeGPSharing}); Status(err) != 404 {
		t.Errorf("another prison's officer: %v", err)
	}
	if _, _, err := f.s.RecordConsent(f.ctx, f.as("admin-1"), "consentcase2", "k3", RecordConsent{Purpose: PurposeGPSharing}); Status(err) != 403 {
		t.Errorf("an administrator: %v", err)
	}
	w, err := f.s.WithdrawConsent(f.ctx, f.as("manager-1"), "consentcase2", "w1", c.ID, WithdrawConsent{})
	if err != nil || w.Consent.Live() || w.Consent.WithdrawnBy != "manager-1" {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	if _, err := f.s.WithdrawConsent(f.ctx, p, "consentcase2", "w2", 999999, WithdrawConsent{}); Status(err) != 404 {
		t.Errorf("no such consent: %v", err)
	}
	list, err := f.s.Consents(f.ctx, p, "consentcase2")
	if err != nil || len(list.Items) != 1 || list.Items[0].Live() {
		t.Errorf("list %+v %v", list, err)
	}
	for _, action := range []string{"consent.record", "consent.withdraw", "consent.list"} {
		if len(f.auditLines(action, "consentcase2")) == 0 {
			t.Errorf("no %s audit line", action)
		}
	}
}
