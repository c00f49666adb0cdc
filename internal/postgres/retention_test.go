package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// Retention anonymises exactly the cases that closed more than the years
// kept before now — their people's details, their notes and any free text
// a pause carried — and leaves every other case, and what statistics need
// of the anonymised ones, as it was.
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
			continue
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
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() {
		t.Errorf("audit chain after the sweep: %+v %v", v, err)
	}
	if ids, err := db.AnonymiseClosedCases(ctx, cutoff, now.Add(24*time.Hour), 100); err != nil || len(ids) != 0 {
		t.Errorf("a second sweep anonymised %v (%v), want none", ids, err)
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
