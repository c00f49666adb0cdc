package web

import (
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The pages added for every role (settings, administration, the checks
// before a change of dates or a reset, the outcomes report), rendered from
// sample data with their forms in error: each error in the summary links
// to its field, each field keeps what was typed.

func TestRolePagesRender(t *testing.T) {
	a := &site{Deps{Mailbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	check := func(name string, d pageData, wants ...string) string {
		t.Helper()
		html := renderPage(t, a, name, d)
		checkPage(t, name, html)
		for _, w := range wants {
			if !strings.Contains(html, w) {
				t.Errorf("%s: no %q", name, w)
			}
		}
		return html
	}

	// Settings, the away date in error.
	away := newForm("away", "/account/away", "away_until").set(url.Values{"away_until-day": {"31"}, "away_until-month": {"2"}, "away_until-year": {"2031"}})
	var errs resettlement.Errors
	formDate(away.Values, "away_until", &errs)
	away.fail(casework.FieldsError(errs), nil)
	emails := newForm("emails", "/account/emails", "notify", "muted")
	emails.Values = url.Values{"notify": {"digest"}, "muted": {"reminder", "transfer"}}
	settings := settingsPage{Me: postgres.Staff{ID: "officer-1", Name: "Olu Officer", Email: "olu@example.org", Role: "officer"},
		Emails: emails, Away: away, Password: newForm("password", "/account/password", "current", "password"),
		Token: newForm("token", "/account/tokens", "name", "expires_in_days"), Session: true,
		Notify: []option{{Value: "each", Label: "Each"}, {Value: "digest", Label: "Digest", Hint: "One a day."}},
		Kinds:  []option{{Value: "reminder", Label: "Reminders"}, {Value: "due", Label: "Due"}, {Value: "transfer", Label: "Transfers"}},
		Tokens: []tokenRow{{ID: 7, Name: "report", Created: "1 Mar 2026", Used: "Never", State: "Active", Live: true, Revoke: newForm("revoke-7", "/account/tokens/7/revoke")},
			{ID: 8, Name: "old", State: "Revoked"}},
		NewToken: &casework.NewToken{Token: postgres.Token{ID: 9, Name: "new"}, Secret: "tg_secret"}}
	check("settings", pageData{Title: "Your settings", Summary: away.summary(), Data: settings},
		`href="#away-away_until">Away until must be a real date`, `id="away-away_until" name="away_until-day" type="text" inputmode="numeric" value="31"`,
		`id="emails-notify-1" name="notify" value="digest" checked`, `id="emails-muted-0" name="muted" type="checkbox" value="reminder" checked`,
		`value="due">`, `tg_secret`, `/account/tokens/7/revoke`, `href="/account/two-step"`)

	// A new member of staff refused; the staff list; a team; the audit log.
	staff := newForm("staff", "/admin/staff/new", staffFields(true)...).set(url.Values{"id": {"Bad Id"}, "name": {"Cy Officer"}, "role": {"officer"}})
	staff.fail(casework.FieldsError(resettlement.Errors{{Field: "id", Message: "must be lower-case letters, digits and dashes (up to 63)"},
		{Field: "team", Message: "is required for an officer"}}), nil)
	check("admin-staff-edit", pageData{Title: "Add", Summary: staff.summary(), Data: staffEditPage{New: true, Form: staff, Roles: roleOptions(),
		Teams: []option{{Value: "", Label: "No team"}, {Value: "pvi-resettlement", Label: "Pentonville"}}}},
		`href="#staff-id">Staff id must be lower-case`, `href="#staff-team">Team is required`, `value="Cy Officer"`, `value="officer" checked`)
	check("admin-staff-edit", pageData{Title: "Cy", Data: staffEditPage{Staff: postgres.Staff{ID: "cy", Name: "Cy", Active: true},
		Form: newForm("staff", "/admin/staff/cy", staffFields(false)...), Password: newForm("set-password", "/admin/staff/cy/password", "password"),
		Roles: roleOptions(), TwoStep: true}}, "Reset two-step sign-in", "Deactivate Cy", `id="set-password-password"`)
	check("admin-staff", pageData{Title: "Staff", Data: staffListPage{Filters: newForm("staff-filters", "/admin/staff", "q", "role", "team", "status"),
		Roles: roleOptions(), Rows: []staffRow{{Staff: postgres.Staff{ID: "officer-1", Name: "Olu Officer", Role: "officer", Active: true}, TeamName: "Pentonville"}},
		Total: 30, From: 1, To: 25, Next: "/admin/staff?page=2"}}, "Resettlement officer", `href="/admin/staff?page=2"`, "Showing 1 to 25 of 30")
	check("admin-teams", pageData{Title: "Teams", Data: teamsPage{Rows: []teamRow{{Team: sampleTeams()[0], ManagerName: "Mo Manager"}}}}, "Mo Manager", "PVI")
	check("admin-team-edit", pageData{Title: "Team", Data: teamEditPage{Team: sampleTeams()[0], Form: newForm("team", "/admin/teams/pvi-resettlement", teamFields(false)...),
		Managers: []option{{Value: "", Label: "Nobody"}}, Heads: []option{{Value: "", Label: "Nobody"}}}}, "Deactivate Pentonville resettlement")
	audit := newForm("audit-filters", "/admin/audit", auditFields...).set(url.Values{"actor": {"officer-1"}})
	check("admin-audit", pageData{Title: "Audit log", Data: auditPage{Filters: audit, CSV: "/admin/audit.csv?actor=officer-1",
		Rows: []auditRow{{AuditEntry: postgres.AuditEntry{ID: 1, Actor: "officer-1", Action: "case.view", CaseID: "k3m9x2p7qa"}, When: "1 Mar 2026, 10:00:00"}},
		Next: "/admin/audit?cursor=1"}}, "case.view", `href="/admin/audit.csv?actor=officer-1"`, `value="officer-1"`)

	// The checks before a change: the release day's rule in words.
	fri := resettlement.D(2026, 12, 4) // a Friday: an adult on a standard release leaves on Thursday
	rule := explain(casework.ReleaseDayRule{Known: true, Day: resettlement.D(2026, 12, 3), Target: fri, Source: "CRD", Early: true})
	if !strings.Contains(strings.Join(rule.Rule, " "), "conditional release date (CRD), Fri 4 Dec 2026") || !strings.Contains(strings.Join(rule.Rule, " "), "moves earlier, to Thu 3 Dec 2026") {
		t.Errorf("the rule says %q", rule.Rule)
	}
	sat := explain(casework.ReleaseDayRule{Known: true, Day: resettlement.D(2026, 12, 4), Target: resettlement.D(2026, 12, 5), Source: "ARD", Weekend: fri})
	if !strings.Contains(strings.Join(sat.Rule, " "), "weekend or bank holiday") {
		t.Errorf("a Saturday's rule says %q", sat.Rule)
	}
	dates := planCheckPage{Kind: "dates", CaseID: "k3m9x2p7qa", Name: "Sam Example", Reason: "Recalculation", Release: rule, Before: sat,
		Moves:   []moveRow{{ID: "housing-referral", Title: "Housing", Was: "Mon 1 Mar", Now: "Fri 5 Mar", By: "4 days later", Overdue: true, Blocking: true}},
		Overdue: 1, Confirm: newForm("confirm-dates", "/cases/k3m9x2p7qa/release-dates"), Edit: "/cases/k3m9x2p7qa/release-dates/edit",
		Hidden: hiddenOf(url.Values{"reason": {"recalculation"}, "release_dates.crd-day": {"4"}, "key": {"old"}})}
	html := check("plan-check", pageData{Title: "Check", Data: dates}, "Steps that move", "1 step would be overdue", `name="release_dates.crd-day" value="4"`,
		"Change what I entered")
	if strings.Contains(html, `value="old"`) {
		t.Error("the check carries the old form's idempotency key")
	}
	reset := planCheckPage{Kind: "reset", CaseID: "k3m9x2p7qa", Name: "Sam Example", Reason: "Recalled", Release: rule, Before: sat,
		Cancelled: []planRow{{Title: "GP registration", Due: "Mon 1 Mar", Status: "Not started"}},
		Plan:      []planRow{{Title: "Release", Due: "Thu 3 Dec", When: "R", Status: "Not started"}},
		Confirm:   newForm("confirm-reset", "/cases/k3m9x2p7qa/reset"), Edit: "/cases/k3m9x2p7qa/reset/edit"}
	check("plan-check", pageData{Title: "Check", Data: reset}, "Steps cancelled", "The new plan", "Start the case again with this plan")

	// The outcomes report and its chart.
	total := rowOf(postgres.OutcomeRow{Establishment: "All", Released: 4, Counts: []postgres.OutcomeCount{{Yes: 3, No: 1}, {Yes: 1}, {}, {Yes: 4}, {}, {No: 2}}})
	chart := drawRates(total)
	if !strings.Contains(chart.Summary, "Of 4 people released: accommodation on night one 75%") || chart.Bars[3].P != 100 || chart.Bars[2].W != 0 {
		t.Errorf("the chart %+v", chart)
	}
	if one := drawRates(rowOf(postgres.OutcomeRow{Released: 1, Counts: make([]postgres.OutcomeCount, 6)})); !strings.HasPrefix(one.Summary, "Of 1 person released") {
		t.Errorf("one person: %q", one.Summary)
	}
	out := outcomesPage{Filters: newForm("outcome-filters", "/reports/outcomes", "team", "from", "to"), Months: monthOptions(pageNow),
		Measures: postgres.OutcomeMeasures, Rows: []outcomeRow{rowOf(postgres.OutcomeRow{Establishment: "PVI", Month: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Released: 4, Counts: total.Cells2Counts()})}, Total: total, Chart: chart, CSV: "/reports/outcomes.csv", Period: "March 2025 to March 2026"}
	check("outcomes", pageData{Title: "Outcomes", Data: out}, "January 2026", "75%", `role="img"`, "4 people released", "Registered with a GP")
}

// Cells2Counts turns a row's cells back into counts, for the sample rows.
func (r outcomeRow) Cells2Counts() []postgres.OutcomeCount {
	out := make([]postgres.OutcomeCount, len(r.Cells))
	for i, c := range r.Cells {
		out[i] = postgres.OutcomeCount{Yes: c.Yes, No: c.No}
	}
	return out
}
