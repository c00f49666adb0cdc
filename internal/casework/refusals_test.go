package casework

import (
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
)

// auditOf is the audit log's lines of an action by an actor, newest first.
func (f *fixture) auditOf(actor, action string) []postgres.AuditEntry {
	f.t.Helper()
	log, err := f.s.DB.AuditLog(f.ctx, postgres.AuditFilter{Actor: actor, Action: action, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return log
}

// Every refusal by role is audited once, whichever check made it, naming
// the request and the reason; other failures are not refusals.
func TestRefusalsByRoleAreAudited(t *testing.T) {
	f := newFixture(t)
	admin, officer := f.as("admin-1"), f.as("officer-1")
	_, adminCases := f.s.ListCases(f.ctx, admin, CaseSearch{})
	_, officerBoard := f.s.Board(f.ctx, officer, BoardQuery{})
	_, officerExport := f.s.SubjectAccess(f.ctx, officer, SubjectAccessRequest{PrisonNumber: "A1111AA"})
	for _, c := range []struct {
		name    string
		p       *auth.Principal
		request string
		caseID  string
		err     error
		reason  string
	}{
		{"an administrator lists cases (caseScope)", admin, "GET /api/v1/cases", "", adminCases, "Administrators manage"},
		{"an administrator opens a case (caseScope)", admin, "GET /api/v1/cases/{caseID}", "k3m9x2p4qa", errAdminCase, "Administrators manage"},
		{"an officer opens the board (boardScope)", officer, "GET /api/v1/board", "", officerBoard, "The board is for"},
		{"a token manages tokens (RequireSession)", officer, "POST /api/v1/tokens", "", RequireSession(officer), "personal access token"},
		{"an officer exports a person's data", officer, "POST /api/v1/admin/subject-access", "", officerExport, "Only administrators export"},
	} {
		if e, ok := ErrorOf(c.err); !ok || e.Kind != Forbidden {
			t.Fatalf("%s: %v is not a refusal by role", c.name, c.err)
		}
		if err := f.s.Refused(f.ctx, c.p, "198.51.100.9", c.request, c.caseID, c.err); err != nil {
			t.Fatal(err)
		}
		log := f.auditOf(c.p.ID(), "access.denied")
		if len(log) == 0 {
			t.Fatalf("%s: not audited", c.name)
		}
		e := log[0]
		if e.Detail != c.request+": "+mustError(t, c.err).Detail || !strings.Contains(e.Detail, c.reason) || e.CaseID != c.caseID || e.Remote != "192.0.2.1" {
			t.Errorf("%s: audited %+v", c.name, e)
		}
	}
	// Before anyone is known (a change from another site): the address.
	if err := f.s.Refused(f.ctx, nil, "198.51.100.9", "POST /api/v1/cases", "../etc", errForbidden); err != nil {
		t.Fatal(err)
	}
	if log := f.auditOf("anonymous", "access.denied"); len(log) != 1 || log[0].Remote != "198.51.100.9" || log[0].CaseID != "" {
		t.Errorf("an anonymous refusal: %+v", log)
	}
	// Not refusals: nothing more is written.
	before := pgtest.Int(t, f.s.DB, `select count(*) from audit`)
	for _, err := range []error{errNoCase, FieldsError(nil), nil} {
		if aerr := f.s.Refused(f.ctx, officer, "", "GET /api/v1/cases/{caseID}", "", err); aerr != nil {
			t.Fatal(aerr)
		}
	}
	if after := pgtest.Int(t, f.s.DB, `select count(*) from audit`); after != before {
		t.Errorf("%d lines written for failures that are not refusals", after-before)
	}
}

func mustError(t *testing.T, err error) *Error {
	t.Helper()
	e, ok := ErrorOf(err)
	if !ok {
		t.Fatalf("%v is not an Error", err)
	}
	return e
}

// A view of the emails no mail server would take — the API's list and the
// board page alike — is audited with the cases they are about.
func TestUndeliverableViewAuditsItsCases(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("undeliv001", openReq("A1111AA"))
	f.readModelCase("undeliv002", openReq("B2222BB"))
	for _, id := range []string{"undeliv001", "undeliv002"} {
		if _, err := f.s.DB.EnqueueEmail(f.ctx, postgres.Email{CaseID: id, AlarmKey: "escalation/1", Recipient: "mo@pvi.example.org",
			RecipientID: "manager-1", Kind: "escalation", Template: "alert", Data: map[string]string{}}); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.Int(t, f.s.DB, `with u as (update outbox set state = 'undeliverable', last_error = '550 no such user' returning 1) select count(*) from u`)
	manager := f.as("manager-1")
	items, err := f.s.Undeliverable(f.ctx, manager)
	if err != nil || len(items) != 2 {
		t.Fatalf("%+v %v", items, err)
	}
	log := f.auditOf("manager-1", "board.undeliverable")
	if len(log) != 1 || log[0].Detail != "shown=2 cases=undeliv002,undeliv001" {
		t.Fatalf("the list's audit: %+v", log)
	}
	if _, err := f.s.OpenBoardFile(f.ctx, manager, BoardQuery{Limit: 50}, []time.Time{testNow}); err != nil {
		t.Fatal(err)
	}
	log = f.auditOf("manager-1", "board.undeliverable")
	if len(log) != 2 || log[0].Detail != "page shown=2 cases=undeliv002,undeliv001" {
		t.Fatalf("the board page's audit: %+v", log)
	}
}
