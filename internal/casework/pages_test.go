package casework

import (
	"testing"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The service behind the pages added for every role: previews of a change
// of dates and of a reset, which change nothing; a person's settings;
// administration, for administrators only; the outcomes report, within a
// manager's teams; the case list's export.

func TestPreviewsChangeNothing(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("k3m9x2p7qa", openReq("A1234BC"))
	officer := f.as("officer-1")
	before, err := f.s.DB.Case(f.ctx, "k3m9x2p7qa")
	if err != nil {
		t.Fatal(err)
	}

	// Release moved from 1 June to 20 March: every pre-release step moves
	// earlier, and those whose new date has passed are given the grace
	// period.
	p, err := f.s.PreviewReleaseDates(f.ctx, officer, "k3m9x2p7qa", ChangeReleaseDates{
		ReleaseDates: resettlement.ReleaseDates{CRD: resettlement.D(2026, 3, 20)}, Reason: "recalculation"})
	if err != nil {
		t.Fatal(err)
	}
	// Friday 20 March: an adult on a standard release leaves on the Thursday.
	if p.Person.PrisonNumber != "A1234BC" || !p.Release.Known || p.Release.Day != resettlement.D(2026, 3, 19) || !p.Release.Early ||
		p.Release.Source != "CRD" || p.Before.Day != resettlement.D(2026, 6, 1) {
		t.Errorf("release %+v, before %+v", p.Release, p.Before)
	}
	moved, graced := map[string]bool{}, 0
	for _, m := range p.Moves {
		moved[m.Step.ID] = true
		if m.Graced {
			graced++
		}
		if !m.Step.DueDate.Before(m.Was) && !m.Graced {
			t.Errorf("%s moved from %s to %s, want earlier", m.Step.ID, m.Was, m.Step.DueDate)
		}
	}
	if !moved["housing-referral"] || !moved["release"] || graced == 0 {
		t.Errorf("moves %+v", p.Moves)
	}
	// A Saturday target: the rule names the working day before.
	p, err = f.s.PreviewReleaseDates(f.ctx, officer, "k3m9x2p7qa", ChangeReleaseDates{
		ReleaseDates: resettlement.ReleaseDates{ARD: resettlement.D(2026, 6, 6)}, Reason: "recalculation"})
	if err != nil || p.Release.Weekend != resettlement.D(2026, 6, 5) || p.Release.Day.After(resettlement.D(2026, 6, 5)) {
		t.Errorf("a Saturday: %+v %v", p.Release, err)
	}
	// Bad input is refused field by field, as the change itself would be.
	_, err = f.s.PreviewReleaseDates(f.ctx, officer, "k3m9x2p7qa", ChangeReleaseDates{ReleaseDates: resettlement.ReleaseDates{CRD: resettlement.D(2026, 6, 1)}})
	wantFieldError(t, err, Invalid, "reason")

	r, err := f.s.PreviewReset(f.ctx, officer, "k3m9x2p7qa", Reset{Reason: resettlement.ResetRecall, ReceivedOn: resettlement.D(2026, 3, 1),
		ReleaseDates: resettlement.ReleaseDates{PRRD: resettlement.D(2026, 9, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cancelled) == 0 || len(r.Plan) == 0 || r.Release.Source != "PRRD" {
		t.Errorf("reset preview: %d cancelled, %d planned, release %+v", len(r.Cancelled), len(r.Plan), r.Release)
	}
	_, err = f.s.PreviewReset(f.ctx, officer, "k3m9x2p7qa", Reset{ReleaseDates: resettlement.ReleaseDates{PRRD: resettlement.D(2026, 9, 1)}})
	wantFieldError(t, err, Invalid, "received_on")

	// Out of sight, nothing; and nothing was changed.
	if _, err := f.s.PreviewReset(f.ctx, f.as("officer-2"), "k3m9x2p7qa", Reset{}); kindOf(err) != NotFound {
		t.Errorf("another prison's officer: %v", err)
	}
	after, _ := f.s.DB.Case(f.ctx, "k3m9x2p7qa")
	if after.Version != before.Version || after.State.Dates != before.State.Dates || after.State.Cycle != 0 {
		t.Errorf("a preview changed the case: %+v", after.State.Dates)
	}
}

func TestSettings(t *testing.T) {
	f := newFixture(t)
	p := f.as("officer-1")
	err := f.s.UpdateSettings(f.ctx, p, Settings{Notify: "weekly", Muted: []string{"escalation"}, AwayUntil: resettlement.D(2026, 3, 1)})
	for _, field := range []string{"notify", "muted", "away_until"} {
		wantFieldError(t, err, Invalid, field)
	}
	if err := f.s.UpdateSettings(f.ctx, p, Settings{Notify: "digest", Muted: []string{"reminder"}, AwayUntil: resettlement.D(2026, 3, 9)}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.s.DB.StaffMember(f.ctx, "officer-1")
	if m.Notify != "digest" || len(m.Muted) != 1 || m.AwayUntil == nil || m.AwayUntil.Day() != 9 || m.Role != "officer" {
		t.Errorf("settings saved as %+v", m)
	}
	// Tokens need a session; a session's token is listed and revoked.
	if _, err := f.s.CreateToken(f.ctx, p, "report", 30); kindOf(err) != Forbidden {
		t.Errorf("a token made a token: %v", err)
	}
	p.Via = "session"
	_, err = f.s.CreateToken(f.ctx, p, " ", 400)
	wantFieldError(t, err, Invalid, "name")
	wantFieldError(t, err, Invalid, "expires_in_days")
	tok, err := f.s.CreateToken(f.ctx, p, "report", 0)
	if err != nil || tok.Secret == "" {
		t.Fatalf("token %+v %v", tok, err)
	}
	if err := f.s.RevokeToken(f.ctx, p, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeToken(f.ctx, f.sessionOf("officer-2"), tok.ID); kindOf(err) != NotFound {
		t.Errorf("another's token revoked: %v", err)
	}
	_, err = f.s.ChangeMyPassword(f.ctx, p, "", "short")
	wantFieldError(t, err, Invalid, "current")
	wantFieldError(t, err, Invalid, "password")
}

func (f *fixture) sessionOf(id string) *auth.Principal {
	p := f.as(id)
	p.Via = "session"
	return p
}

func TestAdministration(t *testing.T) {
	f := newFixture(t)
	admin := f.as("admin-1")
	if _, err := f.s.ListStaff(f.ctx, f.as("manager-1"), StaffFilter{}); kindOf(err) != Forbidden {
		t.Errorf("a manager listed staff: %v", err)
	}
	list, err := f.s.ListStaff(f.ctx, admin, StaffFilter{Role: "officer", Status: "active", Limit: 2})
	if err != nil || list.Total != 3 || len(list.Items) != 2 {
		t.Errorf("active officers: %d of %d, %v", len(list.Items), list.Total, err)
	}
	if list, _ := f.s.ListStaff(f.ctx, admin, StaffFilter{Q: "BEA"}); list.Total != 1 || list.Items[0].ID != "officer-2" {
		t.Errorf("a search by name: %+v", list)
	}
	_, err = f.s.CreateStaff(f.ctx, admin, postgres.Staff{ID: "Bad Id", Name: "Cy", Email: "nope", Role: "officer"}, "short")
	for _, field := range []string{"id", "email", "team", "password"} {
		wantFieldError(t, err, Invalid, field)
	}
	if cy, err := f.s.CreateStaff(f.ctx, admin, postgres.Staff{ID: "cy-1", Name: "Cy", Email: "cy@pvi.example.org", Role: "officer", Team: "pvi-resettlement"}, ""); err != nil || !cy.Active || cy.Notify != "each" {
		t.Fatalf("created %+v %v", cy, err)
	}
	if err := f.s.UpdateStaff(f.ctx, admin, postgres.Staff{ID: "admin-1", Name: "Ade", Email: "ade@london.example.org", Role: "head", Active: true}); kindOf(err) != Conflict {
		t.Errorf("an administrator demoted themself: %v", err)
	}
	if cy, err := f.s.DeactivateStaff(f.ctx, admin, "cy-1"); err != nil || cy.Active {
		t.Fatalf("deactivated %+v %v", cy, err)
	}
	_, err = f.s.CreateTeam(f.ctx, admin, postgres.Team{ID: "wwi", Name: "Wandsworth", Establishment: "W1", Head: "manager-1"})
	wantFieldError(t, err, Invalid, "establishment")
	wantFieldError(t, err, Invalid, "head")
	page, err := f.s.AuditLog(f.ctx, admin, AuditQuery{Actor: "admin-1", Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Next == 0 {
		t.Errorf("a page of the audit log: %+v %v", page, err)
	}
	_, err = f.s.AuditLog(f.ctx, admin, AuditQuery{CaseID: "NOT A CASE", From: resettlement.D(2026, 3, 2), To: resettlement.D(2026, 3, 1)})
	wantFieldError(t, err, Invalid, "case_id")
	wantFieldError(t, err, Invalid, "to")
}

func TestOutcomesAndExport(t *testing.T) {
	f := newFixture(t)
	f.readModelCase("k3m9x2p7qa", openReq("A1234BC"))
	if _, err := f.s.Outcomes(f.ctx, f.as("officer-1"), OutcomeQuery{}); kindOf(err) != Forbidden {
		t.Errorf("an officer read the outcomes report: %v", err)
	}
	rep, err := f.s.Outcomes(f.ctx, f.as("manager-1"), OutcomeQuery{})
	if err != nil || rep.Query.From != resettlement.D(2025, 4, 1) || rep.Query.To != resettlement.D(2026, 3, 1) || rep.Total.Released != 0 {
		t.Errorf("the last twelve months: %+v %v", rep.Query, err)
	}
	_, err = f.s.Outcomes(f.ctx, f.as("manager-1"), OutcomeQuery{Team: "bxi-resettlement", From: resettlement.D(2026, 3, 1), To: resettlement.D(2026, 1, 1)})
	wantFieldError(t, err, Invalid, "team")
	wantFieldError(t, err, Invalid, "to")

	var got []string
	if err := f.s.ExportCases(f.ctx, f.as("officer-1"), CaseSearch{}, func(items []CaseListItem) error {
		for _, c := range items {
			got = append(got, c.ID)
		}
		return nil
	}); err != nil || len(got) != 1 || got[0] != "k3m9x2p7qa" {
		t.Errorf("export %v %v", got, err)
	}
	if err := f.s.ExportCases(f.ctx, f.as("admin-1"), CaseSearch{}, func([]CaseListItem) error { return nil }); kindOf(err) != Forbidden {
		t.Errorf("an administrator exported cases: %v", err)
	}
}

// ChangeStaff is the one rule for a change to a member of staff, the API's
// PATCH and the pages alike: who may change what, checked as a whole, and
// nothing saved when any of it is refused.
func TestChangeStaff(t *testing.T) {
	f := newFixture(t)
	admin, officer := f.as("admin-1"), f.as("officer-1")
	str := func(s string) *string { return &s }
	off := false
	past, future := resettlement.D(2026, 3, 1), resettlement.D(2026, 4, 1)
	for _, c := range []struct {
		name   string
		by     *auth.Principal
		id     string
		change StaffChange
		kind   Kind   // 0: changed
		field  string // the field refused, for Invalid
	}{
		{"one's own settings", officer, "officer-1", StaffChange{Notify: str("digest"), AwayUntil: &future}, 0, ""},
		{"a bad setting", officer, "officer-1", StaffChange{Notify: str("weekly")}, Invalid, "notify"},
		{"an away day in the past", officer, "officer-1", StaffChange{AwayUntil: &past}, Invalid, "away_until"},
		{"one's own role", officer, "officer-1", StaffChange{Role: str("admin")}, Forbidden, ""},
		{"another's settings", officer, "officer-2", StaffChange{Notify: str("digest")}, Forbidden, ""},
		{"no such person", admin, "nobody-1", StaffChange{Notify: str("digest")}, NotFound, ""},
		{"an administrator demotes themself", admin, "admin-1", StaffChange{Role: str("head")}, Conflict, ""},
		{"an administrator deactivates themself", admin, "admin-1", StaffChange{Active: &off}, Conflict, ""},
		{"a good role with a bad email: none of it", admin, "officer-2", StaffChange{Role: str("manager"), Email: str("nope"), Notify: str("digest")}, Invalid, "email"},
		{"another's away day, by an administrator", admin, "officer-2", StaffChange{AwayUntil: &future, Name: str("Bea Officer")}, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := f.s.DB.StaffMember(f.ctx, c.id)
			got, err := f.s.ChangeStaff(f.ctx, c.by, c.id, c.change)
			after, _ := f.s.DB.StaffMember(f.ctx, c.id)
			if c.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.change.Notify != nil && after.Notify != *c.change.Notify || c.change.AwayUntil != nil && (after.AwayUntil == nil ||
					resettlement.DateOf(*after.AwayUntil) != *c.change.AwayUntil) || got.Notify != after.Notify {
					t.Errorf("saved %+v, answered %+v", after, got)
				}
				return
			}
			if kindOf(err) != c.kind {
				t.Fatalf("%v, want %v", err, c.kind)
			}
			if c.field != "" {
				wantFieldError(t, err, c.kind, c.field)
			}
			if after.Notify != before.Notify || after.Role != before.Role || after.Email != before.Email || after.Active != before.Active {
				t.Errorf("refused, yet %+v became %+v", before, after)
			}
		})
	}
	if n := len(f.auditOf("officer-1", "staff.settings")); n != 1 {
		t.Errorf("%d staff.settings lines for one's own settings, want 1", n)
	}
	if n := len(f.auditOf("admin-1", "staff.update")); n != 1 {
		t.Errorf("%d staff.update lines for the administrator's change, want 1", n)
	}
	// The API's staff list is not paged.
	if all, err := f.s.ListStaff(f.ctx, admin, StaffFilter{Limit: -1}); err != nil || len(all.Items) != all.Total || all.Total < 5 {
		t.Errorf("every member of staff: %d of %d, %v", len(all.Items), all.Total, err)
	}
	// A token may revoke its owner's tokens (revoking only narrows access).
	tok, err := f.s.CreateToken(f.ctx, f.sessionOf("officer-1"), "script", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeToken(f.ctx, officer, tok.ID); err != nil {
		t.Errorf("a token revoked its owner's token: %v", err)
	}
}
