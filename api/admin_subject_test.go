package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// subjectCases records two cases for one person (two bookings, the first
// closed) and one for another, each with a step, events, a note, an
// email, the prison movement event that opened it, a consent, a partner
// link (what it asks is a second note) and the import row that found it
// open, as opening and working them
// would; and, for the first person and the other, an event parked and an
// import row refused that belong to no case, and for a third person only
// a parked event.
func (f *accounts) subjectCases() {
	f.t.Helper()
	ctx := context.Background()
	owner := pgtest.AsOwner(f.t, f.db)
	event := func(id, pn, given, caseID string) {
		f.t.Helper()
		ev, _, err := f.db.RecordEvent(ctx, postgres.NewEvent{Source: "nomis", EventID: id, Type: "prison-offender-events.prisoner.received",
			Reason: "NEW_ADMISSION", PrisonNumber: pn, Establishment: "PVI", OccurredAt: time.Now(), ReceivedAt: time.Now(),
			Body: []byte(`{"personReference":{"identifiers":[{"type":"NOMS","value":"` + pn + `"}]},"firstName":"` + given + `"}`)})
		if err != nil {
			f.t.Fatal(err)
		}
		status := postgres.EventApplied
		if caseID == "" {
			status = postgres.EventParked
		}
		if err := f.db.SetEventOutcome(ctx, ev.ID, postgres.EventOutcome{Status: status, Outcome: "done", CaseID: caseID}, time.Now()); err != nil {
			f.t.Fatal(err)
		}
	}
	var rows []postgres.ImportRow
	for i, r := range []struct{ pn, given, caseID string }{
		{"A1234BC", "Sam", "sarcase001"}, {"A1234BC", "Sam", "sarcase002"}, {"B2222BB", "Alex", "other00003"}, {"A1234BC", "Sam", ""}, {"B2222BB", "Alex", ""},
	} {
		row := postgres.ImportRow{Line: i + 2, Status: postgres.RowAlreadyOpen, PrisonNumber: r.pn, CaseID: r.caseID, FoundOpen: true}
		if r.caseID == "" {
			row.Status, row.FoundOpen = postgres.RowInvalid, false
			row.Request = json.RawMessage(`{"person":{"prison_number":"` + r.pn + `","given_name":"` + r.given + `"}}`)
			row.Problems = []postgres.ImportProblem{{Column: "team", Message: "is not a team"}}
		}
		rows = append(rows, row)
	}
	if err := f.db.CreateImport(ctx, postgres.ImportRecord{ID: "sarimport1", CreatedBy: "admin-1", FileName: "caseload.csv", FileSHA256: []byte{1},
		Status: postgres.ImportDone, LastLine: 6, Rows: len(rows)}, rows); err != nil {
		f.t.Fatal(err)
	}
	event("parked-1", "A1234BC", "Sam", "")
	event("parked-2", "B2222BB", "Alex", "")
	event("parked-3", "C3333CC", "Kit", "")
	for i, c := range []struct{ id, pn, booking, given string }{
		{"sarcase001", "A1234BC", "1", "Sam"}, {"sarcase002", "A1234BC", "2", "Sam"}, {"other00003", "B2222BB", "1", "Alex"},
	} {
		if _, _, err := f.db.CreateCase(ctx, postgres.NewCase{ID: c.id, Person: postgres.Person{PrisonNumber: c.pn, Booking: c.booking,
			GivenName: c.given, FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17), LocalAuthority: "Islington"},
			OpenedBy: "officer-1", Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
			f.t.Fatal(err)
		}
		note, err := f.db.AddNote(ctx, c.id, "officer-1", c.given+"'s sister will put him up.")
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := owner.Exec(ctx, `insert into steps (case_id, id, kind, title, status, owner_team, updated)
			values ($1, 'housing-referral', 'housing-referral', 'Housing: duty to refer', 'in-progress', 'pvi-resettlement', now())`, c.id); err != nil {
			f.t.Fatal(err)
		}
		if _, err := owner.Exec(ctx, `insert into case_events (case_id, seq, at, by_staff, kind, note_id, text)
			values ($1, 1, now(), 'officer-1', 'note', $2, 'Note added to Housing: duty to refer')`, c.id, note); err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.db.EnqueueEmail(ctx, postgres.Email{CaseID: c.id, AlarmKey: "reminder/housing-referral", Recipient: "olu@pvi.example.org",
			RecipientID: "officer-1", Kind: "reminder", Template: "alert", Data: map[string]string{"case_ref": c.id}}); err != nil {
			f.t.Fatal(err)
		}
		event("ev-"+c.id, c.pn, c.given, c.id)
		if _, _, err := f.db.RecordConsent(ctx, postgres.Consent{CaseID: c.id, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 2, 2),
			RecordedBy: "officer-1"}, ""); err != nil {
			f.t.Fatal(err)
		}
		token, code := sha256.Sum256([]byte("token"+c.id)), sha256.Sum256([]byte("code"+c.id))
		if _, _, err := f.db.CreatePartnerLink(ctx, postgres.NewPartnerLink{ID: "link-" + c.id, CaseID: c.id, StepID: "housing-referral",
			Purpose: "housing-referral", PartnerName: "Islington housing options", PartnerEmail: "housing.options@islington.example.org",
			Ask: "Has " + c.given + "'s referral been accepted?", TokenHash: token[:], CodeHash: code[:], CreatedBy: "officer-1",
			ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
			f.t.Fatal(err)
		}
		if i == 0 {
			if _, err := owner.Exec(ctx, `update cases set closed_at = now() - interval '1 year' where id = $1`, c.id); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

// An administrator's export holds every kind of data held about the
// person — under each of their cases and no one else's — as JSON and as
// CSV, and is audited without the prison number.
func TestSubjectAccessExportHoldsEverything(t *testing.T) {
	f := newAccounts(t)
	f.subjectCases()
	admin := f.fullSession("admin-1")

	w := f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"prison_number":"a1234bc"}`, admin)
	f.want(w, http.StatusOK, "export by prison number")
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the export may be cached")
	}
	var x casework.SubjectAccess
	if err := json.Unmarshal(w.Body.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Cases) != 2 || x.Cases[0].Case.ID != "sarcase001" || x.Cases[1].Case.ID != "sarcase002" || x.GeneratedBy != "admin-1" {
		t.Fatalf("cases %+v, want sarcase001 and sarcase002", x.Cases)
	}
	for _, c := range x.Cases {
		if c.Person.GivenName != "Sam" || c.Person.PrisonNumber != "A1234BC" || c.Person.LocalAuthority != "Islington" ||
			c.Person.DateOfBirth != resettlement.D(1990, 5, 17) {
			t.Errorf("%s: person %+v", c.Case.ID, c.Person)
		}
		if len(c.Steps) != 1 || c.Steps[0].ID != "housing-referral" || len(c.Timeline) != 1 || c.Timeline[0].Note != "Sam's sister will put him up." ||
			len(c.Notes) != 2 || c.Notes[0].Body != "Sam's sister will put him up." || c.Notes[1].Body != "Has Sam's referral been accepted?" || len(c.Emails) != 1 || c.Emails[0].Kind != "reminder" ||
			!strings.Contains(string(c.Emails[0].Data), c.Case.ID) {
			t.Errorf("%s: missing a kind of data: %+v", c.Case.ID, c)
		}
	}
	if x.Cases[0].Case.ClosedAt == nil {
		t.Error("the closed case's closing is not in the export")
	}
	// Issue 13's records: under each case, the event that opened it (as
	// sent), its consent, its partner link (never a token or reference
	// hash) and its import row; under none, the person's parked event and
	// refused import row, and nobody else's.
	for _, c := range x.Cases {
		if len(c.Events) != 1 || c.Events[0].EventID != "ev-"+c.Case.ID || !strings.Contains(string(c.Events[0].Body), `"firstName":"Sam"`) ||
			len(c.Consents) != 1 || c.Consents[0].Purpose != "housing-referral" || c.Consents[0].RecordedBy != "officer-1" ||
			len(c.PartnerLinks) != 1 || c.PartnerLinks[0].ID != "link-"+c.Case.ID || c.PartnerLinks[0].PartnerEmail != "housing.options@islington.example.org" ||
			c.PartnerLinks[0].Ask != "Has Sam's referral been accepted?" ||
			len(c.ImportRows) != 1 || c.ImportRows[0].ImportID != "sarimport1" || c.ImportRows[0].CaseID != c.Case.ID || c.ImportRows[0].Status != "already-open" {
			t.Errorf("%s: missing issue 13's records: events %+v consents %+v links %+v import rows %+v", c.Case.ID, c.Events, c.Consents, c.PartnerLinks, c.ImportRows)
		}
	}
	if len(x.Events) != 1 || x.Events[0].EventID != "parked-1" || x.Events[0].Status != "parked" || !strings.Contains(string(x.Events[0].Body), "A1234BC") ||
		len(x.ImportRows) != 1 || x.ImportRows[0].CaseID != "" || x.ImportRows[0].Line != 5 || !strings.Contains(string(x.ImportRows[0].Request), `"given_name":"Sam"`) ||
		!strings.Contains(string(x.ImportRows[0].Problems), "is not a team") {
		t.Errorf("what is held under no case: events %+v import rows %+v", x.Events, x.ImportRows)
	}
	for _, secret := range []string{"token_hash", "code_hash", "Alex", "B2222BB", "C3333CC", "parked-2", "parked-3"} {
		if strings.Contains(w.Body.String(), secret) {
			t.Errorf("the export holds %q", secret)
		}
	}
	for _, h := range [][32]byte{sha256.Sum256([]byte("tokensarcase001")), sha256.Sum256([]byte("codesarcase001"))} {
		for _, enc := range []string{hex.EncodeToString(h[:]), base64.StdEncoding.EncodeToString(h[:])} {
			if strings.Contains(w.Body.String(), enc) {
				t.Errorf("the export holds a link's token or reference hash")
			}
		}
	}

	// By the id of one case: the same person, so the same cases; as CSV.
	w = f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"case_id":"sarcase002","format":"csv"}`, admin)
	f.want(w, http.StatusOK, "export by case id as CSV")
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]+" "+r[1]+" "+r[3]] = true
		if r[1] == "other00003" || strings.Contains(r[4], "Alex") {
			t.Errorf("another person's data in the export: %v", r)
		}
	}
	for _, want := range []string{"export  generated_by", "case sarcase001 closed_at", "person sarcase001 given_name", "person sarcase002 date_of_birth",
		"step sarcase002 status", "timeline sarcase001 note", "note sarcase002 body", "email sarcase001 recipient", "email sarcase002 data",
		"event sarcase001 body", "consent sarcase002 purpose", "partner_link sarcase001 partner_email", "partner_link sarcase002 ask",
		"import_row sarcase002 status", "event  body", "import_row  request", "import_row  problems"} {
		if !seen[want] {
			t.Errorf("the CSV has no %q row", want)
		}
	}

	log, err := f.db.AuditLog(context.Background(), postgres.AuditFilter{Actor: "admin-1", Action: "subject.export"})
	if err != nil || len(log) != 2 {
		t.Fatalf("audit %+v %v, want two subject.export lines", log, err)
	}
	for _, e := range log {
		if !strings.Contains(e.Detail, "cases=sarcase001,sarcase002") || strings.Contains(e.Detail, "A1234BC") {
			t.Errorf("audit detail %q: want the cases and no prison number", e.Detail)
		}
	}
	if log[0].Detail != "by=case_id format=csv cases=sarcase001,sarcase002" || log[1].Detail != "by=prison_number format=json cases=sarcase001,sarcase002" {
		t.Errorf("audit details %q, %q", log[0].Detail, log[1].Detail)
	}

	// A person held under no case, only as a parked event: exported too.
	w = f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"prison_number":"C3333CC","format":"csv"}`, admin)
	f.want(w, http.StatusOK, "export of a person with only an event")
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="subject-access.csv"` || !strings.Contains(w.Body.String(), `"firstName"":""Kit""`) {
		t.Errorf("the export of a person with no case: %q\n%s", cd, w.Body)
	}
	log, err = f.db.AuditLog(context.Background(), postgres.AuditFilter{Actor: "admin-1", Action: "subject.export"})
	if err != nil || len(log) != 3 || log[0].Detail != "by=prison_number format=csv cases=" || log[0].CaseID != "" {
		t.Fatalf("audit %+v %v, want the caseless export audited against no case", log, err)
	}

	// Nobody held: 404, audited; a request naming nobody or both: 422.
	f.want(f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"prison_number":"Z9999ZZ"}`, admin), http.StatusNotFound, "unknown person")
	if !f.audited("admin-1", "subject.export", "found=none") {
		t.Error("an export that found nobody is not audited")
	}
	for _, body := range []string{`{}`, `{"case_id":"sarcase001","prison_number":"A1234BC"}`, `{"prison_number":"12345"}`, `{"case_id":"sarcase001","format":"xml"}`} {
		f.want(f.call(http.MethodPost, "/api/v1/admin/subject-access", body, admin), http.StatusUnprocessableEntity, body)
	}
}

// An anonymised case no longer names anyone: found by its id, it is
// exported alone, with its placeholders.
func TestSubjectAccessOfAnAnonymisedCase(t *testing.T) {
	f := newAccounts(t)
	f.subjectCases()
	ids, err := f.db.AnonymiseClosedCases(context.Background(), time.Now(), time.Now(), 10)
	if err != nil || len(ids) != 1 {
		t.Fatalf("anonymised %v %v", ids, err)
	}
	w := f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"case_id":"sarcase001"}`, f.fullSession("admin-1"))
	f.want(w, http.StatusOK, "export of an anonymised case")
	var x casework.SubjectAccess
	_ = json.Unmarshal(w.Body.Bytes(), &x)
	if len(x.Cases) != 1 || x.Cases[0].Person.GivenName != postgres.Removed || x.Cases[0].Notes[0].Body != postgres.Removed ||
		x.Cases[0].Case.AnonymisedAt == nil {
		t.Errorf("%+v, want the one anonymised case", x.Cases)
	}
}

// Only administrators export a person's data: anyone else is refused with
// 403, and the refusal is in the audit log.
func TestSubjectAccessRefusesNonAdmins(t *testing.T) {
	f := newAccounts(t)
	f.subjectCases()
	for _, who := range []string{"officer-1", "manager-1"} {
		w := f.call(http.MethodPost, "/api/v1/admin/subject-access", `{"prison_number":"A1234BC"}`, f.fullSession(who))
		f.want(w, http.StatusForbidden, who)
		if strings.Contains(w.Body.String(), "Sam") {
			t.Errorf("%s's refusal holds personal data: %s", who, w.Body)
		}
		if !f.audited(who, "access.denied", "POST /api/v1/admin/subject-access") {
			t.Errorf("%s's refusal is not audited", who)
		}
	}
	if n := pgtest.Int(t, f.db, `select count(*) from audit where action = 'subject.export'`); n != 0 {
		t.Errorf("%d exports audited, want none", n)
	}
}
