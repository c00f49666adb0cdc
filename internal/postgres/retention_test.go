package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// Retention anonymises exactly the cases that closed more than the years
// kept before now — their people's details, their notes and any free text
// a pause carried, the prison movement events that opened or changed them,
// their consents, partner links and import rows — and leaves every other
// case, and what statistics need of the anonymised ones, as it was. Events
// and import rows that belong to no case go once they are as old.
func TestRetentionAnonymisesOnlyCasesClosedLongAgo(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2033, 6, 1, 12, 0, 0, 0, time.UTC)
	cutoff := postgres.RetentionCutoff(now, 7)
	if want := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC); !cutoff.Equal(want) {
		t.Fatalf("cutoff %s, want %s", cutoff, want)
	}
	cases := []struct {
		id, pn string
		closed *time.Time
		gone   bool
	}{
		{"old0000001", "A1111AA", ptr(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)), true},
		{"old0000002", "B2222BB", ptr(cutoff.Add(-time.Second)), true},
		{"edge000003", "C3333CC", ptr(cutoff), false},
		{"new0000004", "D4444DD", ptr(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)), false},
		{"open000005", "E5555EE", nil, false},
	}
	owner := pgtest.AsOwner(t, db)
	if err := db.PutStaff(ctx, postgres.Staff{ID: "admin-1", Name: "Ade Admin", Email: "ade@london.example.org", Role: "admin", Active: true}); err != nil {
		t.Fatal(err)
	}
	// An import from before the cutoff: a row for each case (the row of a
	// person already open keeps its request), and an invalid row that
	// opened nothing; and one after it, with another invalid row.
	var oldRows []postgres.ImportRow
	for i, c := range cases {
		oldRows = append(oldRows, postgres.ImportRow{Line: i + 2, Status: postgres.RowAlreadyOpen, PrisonNumber: c.pn, CaseID: c.id, FoundOpen: true,
			Request: json.RawMessage(`{"person":{"prison_number":"` + c.pn + `","given_name":"Sam","family_name":"Example"}}`)})
	}
	oldRows = append(oldRows, postgres.ImportRow{Line: 9, Status: postgres.RowInvalid, PrisonNumber: "Z9999ZZ",
		Request: json.RawMessage(`{"person":{"prison_number":"Z9999ZZ","given_name":"Alex"}}`), Problems: []postgres.ImportProblem{{Column: "team", Message: "is not a team"}}})
	for _, imp := range []struct {
		id      string
		created time.Time
		rows    []postgres.ImportRow
	}{
		{"impold0001", cutoff.Add(-time.Hour), oldRows},
		{"impnew0002", cutoff.Add(time.Hour), []postgres.ImportRow{{Line: 2, Status: postgres.RowInvalid, PrisonNumber: "Y8888YY",
			Request: json.RawMessage(`{"person":{"prison_number":"Y8888YY","given_name":"Jo"}}`)}}},
	} {
		sum := sha256.Sum256([]byte(imp.id))
		if err := db.CreateImport(ctx, postgres.ImportRecord{ID: imp.id, CreatedBy: "admin-1", FileName: "caseload.csv", FileSHA256: sum[:],
			Status: postgres.ImportDone, LastLine: 9, Rows: len(imp.rows)}, imp.rows); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(ctx, `update imports set created_at = $2 where id = $1`, imp.id, imp.created); err != nil {
			t.Fatal(err)
		}
	}
	// Events that belong to no case (an unknown person's, parked): one
	// received before the cutoff, one after.
	for _, e := range []struct {
		id, pn   string
		received time.Time
	}{{"caseless-old", "X7777XX", cutoff.Add(-time.Second)}, {"caseless-new", "W6666WW", cutoff}} {
		ev, _, err := db.RecordEvent(ctx, postgres.NewEvent{Source: "nomis", EventID: e.id, Type: "prison-offender-events.prisoner.received",
			Reason: "NEW_ADMISSION", PrisonNumber: e.pn, Establishment: "ZZI", OccurredAt: e.received, ReceivedAt: e.received,
			Body: []byte(`{"personReference":{"identifiers":[{"type":"NOMS","value":"` + e.pn + `"}]},"firstName":"Alex"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetEventOutcome(ctx, ev.ID, postgres.EventOutcome{Status: postgres.EventParked, Outcome: "unknown prison"}, e.received); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.id, Person: postgres.Person{PrisonNumber: c.pn, Booking: "47291A",
			GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17), LocalAuthority: "Islington"},
			OpenedBy: "officer-1", Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
			t.Fatal(err)
		}
		note, err := db.AddNote(ctx, c.id, "officer-1", "Sam's sister in Leeds will put him up: 07700 900123.")
		if err != nil {
			t.Fatal(err)
		}
		state, _ := json.Marshal(resettlement.Case{ID: c.id, Establishment: "PVI", Team: "pvi-resettlement", Paused: true,
			PauseReason: "in hospital after a fall", Events: []resettlement.Event{
				{Seq: 1, Kind: "paused", Text: "Case paused: in hospital after a fall"},
				{Seq: 2, Kind: "paused", Text: "Case paused: Awaiting a court date"},
				{Seq: 3, Kind: "note", NoteID: note, Text: "Note added to Housing referral"}}})
		if _, err := owner.Exec(ctx, `update cases set closed_at = $2, state = $3 where id = $1`, c.id, c.closed, state); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(ctx, `insert into case_events (case_id, seq, at, by_staff, kind, note_id, text) values
			($1, 1, '2026-03-01', 'officer-1', 'paused', null, 'Case paused: in hospital after a fall'),
			($1, 2, '2026-03-02', 'officer-1', 'paused', null, 'Case paused: Awaiting a court date'),
			($1, 3, '2026-03-03', 'officer-1', 'note', $2, 'Note added to Housing referral')`, c.id, note); err != nil {
			t.Fatal(err)
		}
		// The event that opened it (the second's still parked, as if a
		// manager never decided), a consent, a partner link revoked with a
		// reason an officer typed, and one still open.
		ev, _, err := db.RecordEvent(ctx, postgres.NewEvent{Source: "nomis", EventID: "ev-" + c.id, Type: "prison-offender-events.prisoner.received",
			Reason: "NEW_ADMISSION", PrisonNumber: c.pn, Establishment: "PVI", OccurredAt: time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC),
			ReceivedAt: time.Date(2026, 2, 1, 8, 0, 1, 0, time.UTC),
			Body:       []byte(`{"personReference":{"identifiers":[{"type":"NOMS","value":"` + c.pn + `"}]},"firstName":"Sam","lastName":"Example","dateOfBirth":"1990-05-17"}`)})
		if err != nil {
			t.Fatal(err)
		}
		status := postgres.EventApplied
		if c.id == "old0000002" {
			status = postgres.EventParked
		}
		if err := db.SetEventOutcome(ctx, ev.ID, postgres.EventOutcome{Status: status, Outcome: "opened the case", CaseID: c.id},
			time.Date(2026, 2, 1, 8, 0, 2, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.RecordConsent(ctx, postgres.Consent{CaseID: c.id, Purpose: "housing-referral", GivenOn: resettlement.D(2026, 2, 2),
			RecordedBy: "officer-1"}, "consent-"+c.id); err != nil {
			t.Fatal(err)
		}
		for _, l := range []string{"revoked", "open"} {
			token, code := sha256.Sum256([]byte(l+c.id)), sha256.Sum256([]byte("code"+l+c.id))
			if _, _, err := db.CreatePartnerLink(ctx, postgres.NewPartnerLink{ID: l + "-" + c.id, CaseID: c.id, StepID: "housing-referral",
				Purpose: "housing-referral", PartnerName: "Islington housing options", PartnerEmail: "housing.options@islington.example.org",
				Ask: "Has Sam's referral been accepted?", TokenHash: token[:], CodeHash: code[:], CreatedBy: "officer-1",
				ExpiresAt: time.Date(2026, 2, 16, 9, 0, 0, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := db.RevokePartnerLink(ctx, c.id, "revoked-"+c.id, "officer-1", "Sam moved to his sister's in Leeds",
			time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)); err != nil || !ok {
			t.Fatalf("revoke: %v %v", ok, err)
		}
	}

	var swept []string
	for { // in batches of one, as the activity loops
		ids, err := db.AnonymiseClosedCases(ctx, cutoff, now, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			break
		}
		swept = append(swept, ids...)
	}
	if want := []string{"old0000001", "old0000002"}; !slices.Equal(swept, want) {
		t.Fatalf("anonymised %v, want %v", swept, want)
	}
	if events, rows, err := db.PurgeCaselessRecords(ctx, cutoff); err != nil || events != 1 || rows != 1 {
		t.Fatalf("purged %d caseless events and %d import rows (%v), want 1 and 1", events, rows, err)
	}

	for _, c := range cases {
		rec, err := db.Case(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		p := rec.Person
		tl, err := db.Timeline(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if !c.gone {
			if p.GivenName != "Sam" || p.PrisonNumber != c.pn || p.Booking != "47291A" || p.LocalAuthority != "Islington" ||
				p.DateOfBirth != resettlement.D(1990, 5, 17) || tl[0].Text != "Case paused: in hospital after a fall" ||
				tl[2].Note == postgres.Removed || rec.State.PauseReason == "" {
				t.Errorf("%s was changed: %+v %+v", c.id, p, tl)
			}
			if n := pgtest.Int(t, db, `select count(*) from cases where id = $1 and anonymised_at is null`, c.id); n != 1 {
				t.Errorf("%s is marked anonymised", c.id)
			}
			if n := pgtest.Int(t, db, `select count(*) from events where case_id = $1 and prison_number = $2 and body->>'firstName' = 'Sam'
				and status = 'applied'`, c.id, c.pn); n != 1 {
				t.Errorf("%s: its event was changed", c.id)
			}
			if n := pgtest.Int(t, db, `select count(*) from consents where case_id = $1`, c.id); n != 1 {
				t.Errorf("%s: %d consents, want its one", c.id, n)
			}
			if n := pgtest.Int(t, db, `select count(*) from partner_links where case_id = $1 and partner_name = 'Islington housing options'
				and partner_email = 'housing.options@islington.example.org' and revoke_reason is not distinct from
				case when id like 'revoked-%' then 'Sam moved to his sister''s in Leeds' end`, c.id); n != 2 {
				t.Errorf("%s: %d partner links as sent, want 2", c.id, n)
			}
			if n := pgtest.Int(t, db, `select count(*) from import_rows where case_id = $1 and prison_number = $2 and request is not null`, c.id, c.pn); n != 1 {
				t.Errorf("%s: its import row was changed", c.id)
			}
			continue
		}
		// Its event keeps what it was and what was done, not the body or
		// the prison number; one still waiting is dismissed by retention.
		ev, err := db.PersonEvents(ctx, postgres.Removed, postgres.EventApplied, postgres.EventParked, postgres.EventDismissed)
		if err != nil {
			t.Fatal(err)
		}
		var mine []postgres.EventRecord
		for _, e := range ev {
			if e.CaseID == c.id {
				mine = append(mine, e)
			}
		}
		wantStatus, wantBy := postgres.EventApplied, ""
		if c.id == "old0000002" {
			wantStatus, wantBy = postgres.EventDismissed, postgres.RetentionActor
		}
		if len(mine) != 1 || string(mine[0].Body) != `"`+postgres.Removed+`"` || mine[0].EventID != "ev-"+c.id || mine[0].Type != "prison-offender-events.prisoner.received" ||
			mine[0].Outcome != "opened the case" || mine[0].Status != wantStatus || mine[0].DecidedBy != wantBy {
			t.Errorf("%s: events %+v (body %s)", c.id, mine, func() string {
				if len(mine) == 0 {
					return ""
				}
				return string(mine[0].Body)
			}())
		}
		if n := pgtest.Int(t, db, `select count(*) from events where case_id = $1 and (prison_number = $2 or body::text like '%Sam%')`, c.id, c.pn); n != 0 {
			t.Errorf("%s: an event still names the person", c.id)
		}
		if n := pgtest.Int(t, db, `select count(*) from consents where case_id = $1`, c.id); n != 0 {
			t.Errorf("%s: %d consents kept", c.id, n)
		}
		links, err := db.PartnerLinks(ctx, c.id, "")
		if err != nil || len(links) != 2 {
			t.Fatalf("%s: links %+v %v", c.id, links, err)
		}
		for _, l := range links {
			wantReason := ""
			if strings.HasPrefix(l.ID, "revoked-") {
				wantReason = postgres.Removed
			}
			if l.PartnerName != postgres.Removed || l.PartnerEmail != postgres.Removed || l.RevokeReason != wantReason || l.Ask != postgres.Removed ||
				l.StepID != "housing-referral" || l.CreatedAt.IsZero() || (wantReason != "") != (l.RevokedAt != nil) {
				t.Errorf("%s: link %+v", c.id, l)
			}
		}
		if n := pgtest.Int(t, db, `select count(*) from import_rows where case_id = $1 and prison_number = $2 and request is null
			and status = 'already-open'`, c.id, postgres.Removed); n != 1 {
			t.Errorf("%s: its import row still names the person", c.id)
		}
		want := postgres.Person{PrisonNumber: postgres.Removed, Booking: postgres.Removed, GivenName: postgres.Removed,
			FamilyName: postgres.Removed, DateOfBirth: postgres.RemovedDateOfBirth, LocalAuthority: postgres.Removed}
		if p != want {
			t.Errorf("%s: person %+v, want %+v", c.id, p, want)
		}
		// Ids, dates and the case's shape stay for statistics.
		if rec.ID != c.id || rec.ClosedAt == nil || !rec.ClosedAt.Equal(*c.closed) || rec.Establishment != "PVI" || rec.Team != "pvi-resettlement" {
			t.Errorf("%s: lost what statistics need: %+v", c.id, rec)
		}
		if len(tl) != 3 || tl[0].Text != "Case paused" || tl[1].Text != "Case paused: Awaiting a court date" ||
			tl[2].Text != "Note added to Housing referral" || tl[2].Note != postgres.Removed {
			t.Errorf("%s: timeline %+v", c.id, tl)
		}
		st := rec.State
		if st == nil || st.PauseReason != "" || st.Events[0].Text != "Case paused" || st.Events[1].Text != "Case paused: Awaiting a court date" || !st.Paused {
			t.Errorf("%s: saved state %+v", c.id, st)
		}
		if n := pgtest.Int(t, db, `select count(*) from cases where id = $1 and anonymised_at = $2`, c.id, now); n != 1 {
			t.Errorf("%s: anonymised_at is not the sweep's now", c.id)
		}
		log, err := db.AuditLog(ctx, postgres.AuditFilter{CaseID: c.id, Action: "case.anonymise"})
		if err != nil || len(log) != 1 || log[0].Actor != postgres.RetentionActor {
			t.Errorf("%s: audit %+v %v, want one case.anonymise by %s", c.id, log, err, postgres.RetentionActor)
		}
	}
	if n := pgtest.Int(t, db, `select count(*) from audit where action = 'case.anonymise'`); n != 2 {
		t.Errorf("%d anonymisations audited, want 2", n)
	}
	// What belongs to no case: the old event and import row are gone, the
	// newer ones and the old import's rows of cases stay; audited once.
	for _, c := range []struct {
		sql  string
		want int
	}{
		{`select count(*) from events where event_id = 'caseless-old'`, 0},
		{`select count(*) from events where event_id = 'caseless-new' and prison_number = 'W6666WW'`, 1},
		{`select count(*) from import_rows where prison_number = 'Z9999ZZ'`, 0},
		{`select count(*) from import_rows where import_id = 'impnew0002' and prison_number = 'Y8888YY' and request is not null`, 1},
		{`select count(*) from import_rows where import_id = 'impold0001'`, len(cases)},
		{`select count(*) from imports`, 2},
	} {
		if n := pgtest.Int(t, db, c.sql); n != c.want {
			t.Errorf("%s: %d, want %d", c.sql, n, c.want)
		}
	}
	purges, err := db.AuditLog(ctx, postgres.AuditFilter{Action: "retention.purge"})
	if err != nil || len(purges) != 1 || purges[0].Actor != postgres.RetentionActor ||
		purges[0].Detail != fmt.Sprintf("events=1 import_rows=1 before=%s", cutoff.Format(time.RFC3339)) {
		t.Errorf("the purge's audit %+v %v", purges, err)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
		t.Errorf("audit chain after the sweep: %+v %v", v, err)
	}
	if ids, err := db.AnonymiseClosedCases(ctx, cutoff, now.Add(24*time.Hour), 100); err != nil || len(ids) != 0 {
		t.Errorf("a second sweep anonymised %v (%v), want none", ids, err)
	}
	if events, rows, err := db.PurgeCaselessRecords(ctx, cutoff); err != nil || events != 0 || rows != 0 {
		t.Errorf("a second purge deleted %d events and %d import rows (%v), want none", events, rows, err)
	}
	if n := pgtest.Int(t, db, `select count(*) from audit where action = 'retention.purge'`); n != 1 {
		t.Errorf("%d purges audited, want only the one that deleted something", n)
	}
}

func ptr[T any](v T) *T { return &v }

// Officers' default list holds open cases only, so a closed case has left
// it long before 90 days; asking for closed cases finds them, however long
// ago they closed and whether or not they are anonymised.
func TestClosedCasesLeaveTheDefaultList(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	owner := pgtest.AsOwner(t, db)
	for _, c := range []struct {
		id     string
		closed *time.Time
	}{{"open000001", nil}, {"closed0002", ptr(now.AddDate(0, 0, -1))}, {"closed0003", ptr(now.AddDate(0, 0, -200))}, {"closed0004", ptr(now.AddDate(-8, 0, 0))}} {
		if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: c.id, Person: postgres.Person{PrisonNumber: "A1111AA", Booking: c.id,
			GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1",
			Establishment: "PVI", Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 2, 1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(ctx, `update cases set closed_at = $2 where id = $1`, c.id, c.closed); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AnonymiseClosedCases(ctx, postgres.RetentionCutoff(now, 7), now, 10); err != nil {
		t.Fatal(err)
	}
	list := func(stage string) []string {
		t.Helper()
		rows, _, err := db.ListCases(ctx, postgres.CaseFilter{Scope: postgres.Scope{Establishments: []string{"PVI"}}, Stage: stage, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := list(""); !slices.Equal(got, []string{"closed0002", "open000001"}) {
		t.Errorf("default list %v, want the open case and the one closed yesterday (not those closed 200 days or 8 years ago)", got)
	}
	if got := list("closed"); !slices.Equal(got, []string{"closed0002", "closed0003", "closed0004"}) {
		t.Errorf("closed list %v, want every closed case", got)
	}
}
