package integration

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The pages of every role in a real browser, on the GOV.UK Design System:
// an officer's settings, a change of release dates checked before it is
// made, a recall with its new plan shown first, the case list's CSV, a
// keyboard-only run through a case and the case page on a phone; a head of
// service's outcomes report; an administrator's staff, teams and audit
// log. Every form is sent with bad input first: the error summary names
// each field at fault, each field keeps what was typed, and nothing is
// saved. Every page is checked with axe-core and shot at desktop and phone
// widths (uiSession.shoot).

// fetch sends a request with the browser's session, as a form would from
// the site itself, and returns the answer and its body.
func (s *uiSession) fetch(method, path string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, s.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	req.AddCookie(s.cookie("tg_session"))
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// value reads a control's value.
func (s *uiSession) value(id string) string {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		s.t.Fatalf("the value of #%s: %v", id, err)
	}
	return v
}

// summaryNames checks the error summary links to each field (by id) and
// says what is wrong with it.
func (s *uiSession) summaryNames(fields map[string]string) {
	s.t.Helper()
	for id, text := range fields {
		sel := fmt.Sprintf(`.govuk-error-summary a[href="#%s"]`, id)
		if !s.has(sel) {
			s.t.Errorf("the error summary on %s has no link to #%s: %s", s.path(), id, s.text(".govuk-error-summary"))
			continue
		}
		s.expectText(chromedp.CSS(sel), text)
		if !s.has("#" + id) {
			s.t.Errorf("the error summary links to #%s, which is not on %s", id, s.path())
		}
	}
}

// noSidewaysScroll checks the page fits a phone's width.
func (s *uiSession) noSidewaysScroll() {
	s.t.Helper()
	s.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)), chromedp.Sleep(150*time.Millisecond))
	wide, _ := chromedp.Run(s.ctx, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`))
	if wide > 391 {
		s.t.Errorf("%s is %.0f px wide on a 390 px phone: it scrolls sideways", s.path(), wide)
	}
}

// signInAs signs in (passing two-step sign-in as signIn does) and expects
// the start page's heading.
func (s *uiSession) signInAs(login, heading string) {
	s.t.Helper()
	s.signInPassword(login)
	switch path := s.path(); path {
	case "/account/two-step":
		secret := s.startTwoStep()
		s.confirmTwoStep(staffIDOf(s.t, s.dev, login), secret)
		s.submit("continue after the recovery codes", `main a[href="/cases"]`)
	case "/sign-in/code":
		s.enterCode(staffIDOf(s.t, s.dev, login))
	}
	s.expectText("h1", heading)
}

func TestPagesForEveryRole(t *testing.T) {
	exe := uiChromium(t)
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	s := &uiSession{t: t, ctx: uiBrowser(t, exe), base: d.URL, dir: uiShotDir(t), dev: d}
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())

	s.signIn("olu.officer@pvi.example.org")

	// The checker checks: a page with an image with no text fails it.
	s.open("/account")
	s.do("break the page", chromedp.Evaluate[chromedp.Void](`document.querySelector("main").append(Object.assign(document.createElement("img"), {src: "/static/govuk/assets/images/favicon.svg"}))`))
	if vs := s.axeViolations("a broken page"); !slices.ContainsFunc(vs, func(v axeViolation) bool { return v.ID == "image-alt" }) {
		t.Errorf("axe-core did not find an image with no alt text: %+v", vs)
	}

	// Each part runs as a subtest with the one browser; a part that fails
	// stops itself, and the next goes on.
	part := func(name string, f func(t *testing.T, s *uiSession)) {
		t.Run(name, func(t *testing.T) {
			sub := *s
			sub.t = t
			defer func() { s.axeRuns += sub.axeRuns }()
			f(t, &sub)
		})
	}
	part("settings", settingsPages)
	caseID := s.openCaseFor(t, "Rae", "Example", "B1234CD", today.AddDays(-30), today.AddDays(50))
	part("what-if", func(t *testing.T, s *uiSession) { whatIfPages(t, s, caseID, today) })
	part("recall", func(t *testing.T, s *uiSession) { recallPages(t, s, caseID, today) })
	part("keyboard", func(t *testing.T, s *uiSession) { keyboardRun(t, s, caseID) })
	part("phone", func(t *testing.T, s *uiSession) { phoneCase(t, s, caseID) })
	part("case list CSV", func(t *testing.T, s *uiSession) {
		// A name a spreadsheet would read as a formula is defused.
		other := s.openCaseFor(t, "=SUM(1+1)", "Formula", "C1234DE", today.AddDays(-10), today.AddDays(90))
		s.open("/cases?show=all")
		want(t, s.has(`#export button[type="submit"]`), "the case list offers no CSV")
		resp, body := s.fetch(http.MethodPost, "/cases.csv", url.Values{"show": {"all"}})
		want(t, resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv"), "cases.csv %d %s", resp.StatusCode, body)
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) < 3 {
			t.Fatalf("cases.csv: %v\n%s", err, body)
		}
		want(t, rows[0][0] == "case_id" && rows[0][2] == "given_name", "cases.csv header %v", rows[0])
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
			if r[0] == other && r[2] != "'=SUM(1+1)" {
				t.Errorf("a formula went into the CSV as %q", r[2])
			}
		}
		want(t, slices.Contains(ids, caseID) && slices.Contains(ids, other), "cases.csv has %v, want %s and %s", ids, caseID, other)
		// A search travels in the form, never the address.
		resp, body = s.fetch(http.MethodPost, "/cases.csv", url.Values{"q": {"Formula"}})
		want(t, resp.StatusCode == http.StatusOK && strings.Contains(body, other) && !strings.Contains(body, caseID), "a searched export:\n%s", body)
	})
	// A case released a month ago, closed with its outcomes, for the report.
	released := s.openCaseFor(t, "Lou", "Released", "D1234EF", today.AddDays(-120), today.AddDays(-30))
	s.open("/cases/" + released)
	s.do("open the close form", chromedp.Click(chromedp.CSS(`#actions details:has(#close) summary`)),
		chromedp.SetValue(chromedp.ID("close-reason"), "completed"),
		chromedp.Click(chromedp.ID("close-outcome-accommodation_night_one-1")), // yes
		chromedp.Click(chromedp.ID("close-outcome-gp_registered-2")),           // no
		chromedp.Click(chromedp.ID("close-outcome-id_obtained-1")))
	s.submit("close with outcomes", `#close button[type="submit"]`)
	s.expectText(".flash", "Case closed")
	s.signOut()

	part("outcomes", func(t *testing.T, s *uiSession) { outcomesPages(t, s, released, today) })
	part("admin", func(t *testing.T, s *uiSession) { adminPages(t, s, ctx) })
	if s.axeRuns == 0 {
		t.Error("no page was checked with axe-core")
	}
}

// openCaseFor opens a case through the form and returns its id.
func (s *uiSession) openCaseFor(t *testing.T, given, family, prisonNumber string, received, crd resettlement.Date) string {
	t.Helper()
	s.open("/cases/new")
	s.do("fill in the open-case form",
		chromedp.SetValue(chromedp.ID("open-person-prison_number"), prisonNumber),
		chromedp.SetValue(chromedp.ID("open-person-given_name"), given),
		chromedp.SetValue(chromedp.ID("open-person-family_name"), family),
		s.setDate("open-person-date_of_birth", "1988-02-03"),
		s.setDate("open-received_on", received.String()),
		s.setDate("open-release_dates-crd", crd.String()))
	s.submit("open the case", `#open button[type="submit"]`)
	s.expectText(".flash", "Case opened")
	loc := s.location()
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !resettlement.ValidID(id) {
		t.Fatalf("the new case is at %s", loc)
	}
	return id
}

func settingsPages(t *testing.T, s *uiSession) {
	ctx := context.Background()
	s.open("/account")
	s.expectText("h1", "Your settings")
	s.noSidewaysScroll()
	s.shoot("settings")

	// Emails: a kind that cannot be turned off, and no such way to be told.
	s.do("tamper with the choices", chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById("emails-notify-0").value = "weekly"; document.getElementById("emails-notify-0").checked = true;
		const box = document.getElementById("emails-muted-0"); box.value = "escalation"; box.checked = true;
		document.getElementById("emails-muted-1").checked = true;
	})()`))
	if status := s.submit("save bad email settings", `#emails button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("bad email settings: %d", status)
	}
	s.summaryNames(map[string]string{"emails-notify": "How you are emailed must be each", "emails-muted": "escalations are always sent"})
	want(t, s.has(`#emails-muted-1:checked`), "the ticked box was not kept")
	me, _ := s.dev.DB.StaffMember(ctx, "officer-1")
	want(t, me.Notify == "each" && len(me.Muted) == 0, "bad settings were saved: %+v", me)
	s.shoot("settings-errors")
	s.open("/account")
	s.do("choose a digest without reminders", chromedp.Click(chromedp.ID("emails-notify-1")), chromedp.Click(chromedp.ID("emails-muted-0")))
	s.submit("save email settings", `#emails button[type="submit"]`)
	s.expectText(".flash", "one email a day", "reminder")
	me, _ = s.dev.DB.StaffMember(ctx, "officer-1")
	want(t, me.Notify == "digest" && slices.Equal(me.Muted, []string{"reminder"}), "settings saved as %+v", me)

	// Away: a day that does not exist, then a real one.
	s.do("a day that does not exist", s.setDate("away-away_until", "2031-02-31"))
	s.submit("save a bad away date", `#away button[type="submit"]`)
	s.summaryNames(map[string]string{"away-away_until": "must be a real date"})
	want(t, s.value("away-away_until") == "31" && s.value("away-away_until-month") == "2", "the date typed was not kept")
	me, _ = s.dev.DB.StaffMember(ctx, "officer-1")
	want(t, me.AwayUntil == nil, "a bad away date was saved")
	back := resettlement.DateOf(time.Now()).AddDays(14)
	s.do("a real day", s.setDate("away-away_until", back.String()))
	s.submit("save the away date", `#away button[type="submit"]`)
	s.expectText(".flash", "You are away until")
	me, _ = s.dev.DB.StaffMember(ctx, "officer-1")
	want(t, me.AwayUntil != nil && resettlement.DateOf(*me.AwayUntil) == back, "away until %v, want %s", me.AwayUntil, back)
	s.submit("back again", `#back button[type="submit"]`)
	s.expectText(".flash", "Welcome back")

	// Password: a new one too short is refused before the current one is
	// tried; passwords are never shown again.
	s.do("a short new password", chromedp.SetValue(chromedp.ID("password-current"), "wrong"),
		chromedp.SetValue(chromedp.ID("password-password"), "short"))
	s.submit("change to a bad password", `#password button[type="submit"]`)
	s.summaryNames(map[string]string{"password-password": "New password"})
	want(t, s.value("password-current") == "" && s.value("password-password") == "", "a password was shown again")
	s.do("a wrong current password", chromedp.SetValue(chromedp.ID("password-current"), "not my password"),
		chromedp.SetValue(chromedp.ID("password-password"), "a much longer pass phrase 42"))
	s.submit("change with a wrong current password", `#password button[type="submit"]`)
	s.summaryNames(map[string]string{"password-current": "Current password is not your current password"})

	// Tokens: made, shown once, working, then revoked.
	s.do("a token with no name", chromedp.SetValue(chromedp.ID("token-expires_in_days"), "many"))
	s.submit("make a bad token", `#token button[type="submit"]`)
	s.summaryNames(map[string]string{"token-name": "What it is for is required", "token-expires_in_days": "whole number"})
	want(t, s.value("token-expires_in_days") == "many", "the days typed were not kept")
	s.do("a good token", chromedp.SetValue(chromedp.ID("token-name"), "weekly report"), chromedp.SetValue(chromedp.ID("token-expires_in_days"), "30"))
	s.submit("make a token", `#token button[type="submit"]`)
	secret := strings.TrimSpace(s.text("#new-token"))
	s.shoot("settings-token")
	api := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	want(t, api() == http.StatusOK, "the new token does not work")
	s.open("/account")
	want(t, !s.has("#new-token"), "the token's secret is shown again")
	s.expectText("#tokens", "weekly report")
	s.submit("revoke the token", `#tokens form[action$="/revoke"] button`)
	s.expectText(".flash", "Token revoked")
	want(t, api() == http.StatusUnauthorized, "a revoked token still works")
	want(t, s.has(`a[href="/account/two-step"]`), "the settings do not lead to two-step sign-in")
	s.open("/settings")
	want(t, s.path() == "/account", "/settings went to %s", s.path())
}

func whatIfPages(t *testing.T, s *uiSession, caseID string, today resettlement.Date) {
	caseForm := func(id string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(fmt.Sprintf(`#actions details:has(#%s) summary`, id)))
	}
	before, err := s.dev.Cases.State(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	// Bad input: a date that does not exist and no reason, both named.
	s.open("/cases/" + caseID)
	s.do("bad dates", caseForm("dates"), s.setDate("dates-release_dates-crd", "2031-02-30"))
	s.submit("check bad dates", `#dates button[type="submit"]`)
	s.summaryNames(map[string]string{"dates-release_dates-crd": "must be a real date", "dates-reason": "Reason must be one of"})
	want(t, s.value("dates-release_dates-crd") == "30", "the day typed was not kept")
	s.shoot("case-dates-errors")

	// What if the release came much earlier? Steps move; some would be
	// overdue or given the grace period. Nothing is saved yet.
	soon := today.AddDays(9)
	s.do("earlier dates", s.setDate("dates-release_dates-crd", soon.String()), chromedp.SetValue(chromedp.ID("dates-reason"), "recalculation"))
	s.submit("check the change", `#dates button[type="submit"]`)
	s.expectText("h1", "Check the change to the release dates")
	s.expectText("main", "The new release day", "conditional release date (CRD)", "Steps that move", "ID documents", "Grace period")
	want(t, s.has(".govuk-warning-text"), "moving release 41 days earlier warns of nothing")
	s.noSidewaysScroll()
	s.shoot("dates-check")
	after, _ := s.dev.Cases.State(context.Background(), caseID)
	want(t, after.Case.Dates == before.Case.Dates, "the check changed the dates")

	// Back to change them, what was typed kept; then confirm.
	s.submit("go back", `#edit-dates button[type="submit"]`)
	want(t, s.value("dates-release_dates-crd") == fmt.Sprint(soon.Day), "going back lost the date typed")
	s.do("a later date", s.setDate("dates-release_dates-crd", today.AddDays(60).String()))
	s.submit("check again", `#dates button[type="submit"]`)
	s.submit("confirm", `#confirm-dates button[type="submit"]`)
	s.expectText(".flash", "Release dates changed")
	after, _ = s.dev.Cases.State(context.Background(), caseID)
	want(t, after.Case.Dates.CRD == today.AddDays(60), "the dates are %+v", after.Case.Dates)
}

func recallPages(t *testing.T, s *uiSession, caseID string, today resettlement.Date) {
	s.open("/cases/" + caseID)
	s.do("open the recall form", chromedp.Click(chromedp.CSS(`#actions details:has(#reset) summary`)),
		s.setDate("reset-release_dates-prrd", today.AddDays(70).String()))
	s.submit("check a recall with no reason or reception date", `#reset button[type="submit"]`)
	s.summaryNames(map[string]string{"reset-reason": "Reason must be recall or new-sentence", "reset-received_on": "Received into custody on is required"})
	want(t, s.value("reset-release_dates-prrd-year") == fmt.Sprint(today.AddDays(70).Year), "the PRRD typed was not kept")
	s.do("a recall", chromedp.Click(chromedp.ID("reset-reason-0")), s.setDate("reset-received_on", today.AddDays(-1).String()))
	s.submit("check the recall", `#reset button[type="submit"]`)
	s.expectText("h1", "Check the new plan")
	s.expectText("main", "Steps cancelled", "The new plan", "post-recall release date (PRRD)")
	s.noSidewaysScroll()
	s.shoot("reset-check")
	st, _ := s.dev.Cases.State(context.Background(), caseID)
	want(t, st.Case.Cycle == 0, "the check reset the case")
	s.submit("start again", `#confirm-reset button[type="submit"]`)
	s.expectText(".flash", "started again")
	st, _ = s.dev.Cases.State(context.Background(), caseID)
	want(t, st.Case.Cycle == 1 && st.Case.Dates.PRRD == today.AddDays(70), "after the recall: cycle %d, dates %+v", st.Case.Cycle, st.Case.Dates)
	s.expectText("#history", "Case reset (recall)")
}

// keyboardRun opens a case, starts a step and reassigns it with the
// keyboard alone: Tab, Enter, Space and the arrow keys.
func keyboardRun(t *testing.T, s *uiSession, caseID string) {
	s.open("/cases?show=all")
	s.tabTo(fmt.Sprintf(`a[href="/cases/%s"]`, caseID), 80)
	s.pressSubmit("open the case")
	want(t, s.path() == "/cases/"+caseID, "Enter on the case's link went to %s", s.path())
	step := "#step-housing-referral"
	s.tabTo(step+" summary", 80)
	s.press("open the step", kb.Enter)
	want(t, s.has(step+" details[open]"), "Enter did not open the step")
	s.tabTo("#act-housing-referral-action-0", 5) // Started
	s.press("choose started", " ")
	want(t, s.has("#act-housing-referral-action-0:checked"), "Space did not choose the first action")
	s.tabTo(`#act-housing-referral button[type="submit"]`, 5)
	s.pressSubmit("save the step")
	s.expectText(".flash", "Step started")
	s.tabTo(step+" summary", 80)
	s.press("open the step", kb.Enter)
	owner := s.value("assign-housing-referral-owner")
	s.tabTo("#assign-housing-referral-owner", 10)
	s.press("choose the team's queue by typing its first letter", "T")
	chosen := s.value("assign-housing-referral-owner")
	want(t, chosen != owner, "the arrow key did not change the owner from %s", owner)
	s.tabTo(`#assign-housing-referral button[type="submit"]`, 5)
	s.pressSubmit("reassign the step")
	s.expectText(".flash", "Step reassigned")
	st, err := s.dev.Cases.State(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range st.Case.Steps {
		if x.ID == "housing-referral" {
			want(t, x.Status == resettlement.StepInProgress && x.Owner.Team+"/"+x.Owner.Staff == chosen,
				"the step is %s, owned by %+v, want in progress and %s", x.Status, x.Owner, chosen)
		}
	}
}

// phoneCase: on a phone each step is one line (title, due date, status)
// and opens for its details.
func phoneCase(t *testing.T, s *uiSession, caseID string) {
	s.open("/cases/" + caseID)
	s.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)), chromedp.Sleep(150*time.Millisecond))
	// Title, due date and status side by side: their middles on one line.
	rows, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".tg-step__summary")].map(e => {
		const mid = el => { const r = el.getBoundingClientRect(); return r.top + r.height / 2; };
		const t = mid(e.querySelector(".tg-step__title")), d = mid(e.querySelector(".tg-step__due")), s = mid(e.querySelector(".tg-step__tags"));
		return Math.max(Math.abs(t - d), Math.abs(t - s));
	})`))
	if err != nil || len(rows) < 10 {
		t.Fatalf("the steps' lines: %v %v", rows, err)
	}
	for i, off := range rows {
		if off > 6 {
			t.Errorf("step %d is not one line on a phone: its parts are %.0f px apart", i, off)
		}
	}
	open, _ := chromedp.Run(s.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".tg-step details[open]").length`))
	want(t, open == 0, "%d steps open on arrival", open)
	s.noSidewaysScroll()
	s.do("open a step", chromedp.Click(chromedp.CSS("#step-gp-registration summary")))
	s.expectText("#step-gp-registration", "Owner", "Give this step to")
	s.do("back to desktop", chromedp.EmulateViewport(1280, 900))
	s.shoot("case-steps")
}

func outcomesPages(t *testing.T, s *uiSession, released string, today resettlement.Date) {
	s.signIn("hana.head@london.example.org")
	s.open("/reports/outcomes")
	s.expectText("h1", "Outcomes of release")
	s.expectText("main", "1 person released", "PVI")
	desc, _ := chromedp.Run(s.ctx, chromedp.TextContent(chromedp.CSS("#rates-desc")))
	want(t, strings.Contains(desc, "accommodation on night one 100%") && strings.Contains(desc, "registered with a GP 0%"), "the chart says %q", desc)
	s.noSidewaysScroll()
	s.shoot("outcomes")
	// Bad input: the last month before the first.
	month := func(d resettlement.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) }
	s.do("a period backwards", chromedp.SetValue(chromedp.ID("outcome-filters-from"), month(today)),
		chromedp.SetValue(chromedp.ID("outcome-filters-to"), month(today.AddDays(-70))))
	if status := s.submit("show a backwards period", `#outcome-filters button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("a backwards period: %d", status)
	}
	s.summaryNames(map[string]string{"outcome-filters-to": "cannot be before the first month"})
	want(t, s.value("outcome-filters-to") == month(today.AddDays(-70)), "the month chosen was not kept")
	s.shoot("outcomes-errors")
	resp, body := s.fetch(http.MethodGet, "/reports/outcomes.csv", nil)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != 3 {
		t.Fatalf("outcomes.csv %d %v:\n%s", resp.StatusCode, err, body)
	}
	want(t, rows[0][3] == "accommodation_night_one_yes" && rows[1][0] == "PVI" && rows[1][2] == "1" && rows[1][3] == "1" && rows[2][0] == "All",
		"outcomes.csv:\n%s", body)
	s.signOut()
}

func adminPages(t *testing.T, s *uiSession, ctx context.Context) {
	s.signInAs("ade.admin@london.example.org", "Staff")
	s.noSidewaysScroll()
	s.shoot("admin-staff")
	s.do("officers only", chromedp.SetValue(chromedp.ID("staff-filters-role"), "officer"))
	s.submit("filter by role", `#staff-filters button[type="submit"]`)
	roles, _ := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tbody td[data-label=Role]")].map(e => e.textContent.trim())`))
	want(t, len(roles) > 0 && !slices.ContainsFunc(roles, func(r string) bool { return r != "Resettlement officer" }), "filtered by role: %v", roles)
	s.open("/admin/staff?q=bea")
	s.expectText("tbody", "Bea Officer")

	// A new member of staff: bad, then good.
	s.open("/admin/staff/new")
	s.do("bad details", chromedp.SetValue(chromedp.ID("staff-id"), "Not An Id"), chromedp.SetValue(chromedp.ID("staff-name"), "Cy Officer"),
		chromedp.SetValue(chromedp.ID("staff-email"), "not an address"))
	if status := s.submit("add with bad details", `#staff button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("bad staff details: %d", status)
	}
	s.summaryNames(map[string]string{"staff-id": "Staff id must be lower-case", "staff-email": "Email address must be an email address",
		"staff-team": "Team is required for an officer"})
	want(t, s.value("staff-name") == "Cy Officer", "the name typed was not kept")
	if _, err := s.dev.DB.StaffMember(ctx, "cy-officer"); err == nil {
		t.Error("bad details were saved")
	}
	s.shoot("admin-staff-errors")
	s.do("good details", chromedp.SetValue(chromedp.ID("staff-id"), "cy-officer"), chromedp.SetValue(chromedp.ID("staff-email"), "cy.officer@pvi.example.org"),
		chromedp.SetValue(chromedp.ID("staff-team"), "pvi-resettlement"))
	s.submit("add them", `#staff button[type="submit"]`)
	s.expectText(".flash", "Added Cy Officer")
	s.expectText("h1", "Cy Officer")
	s.noSidewaysScroll()
	s.shoot("admin-staff-edit")

	// Change their role and email: a bad address first.
	s.do("a bad email", chromedp.SetValue(chromedp.ID("staff-email"), "cy@"), chromedp.Click(chromedp.ID("staff-role-1")))
	s.submit("save a bad email", `#staff button[type="submit"]`)
	s.summaryNames(map[string]string{"staff-email": "must be an email address"})
	want(t, s.value("staff-email") == "cy@" && s.has("#staff-role-1:checked"), "the edit form lost what was typed")
	m, _ := s.dev.DB.StaffMember(ctx, "cy-officer")
	want(t, m.Role == "officer" && m.Email == "cy.officer@pvi.example.org", "a bad change was saved: %+v", m)
	s.do("a good email", chromedp.SetValue(chromedp.ID("staff-email"), "cy.manager@pvi.example.org"))
	s.submit("save", `#staff button[type="submit"]`)
	s.expectText(".flash", "Saved the changes")
	m, _ = s.dev.DB.StaffMember(ctx, "cy-officer")
	want(t, m.Role == "manager" && m.Email == "cy.manager@pvi.example.org", "saved as %+v", m)

	// A password: too short, then good.
	s.do("a short password", chromedp.SetValue(chromedp.ID("set-password-password"), "short"))
	s.submit("set a short password", `#set-password button[type="submit"]`)
	s.summaryNames(map[string]string{"set-password-password": "New password"})
	s.do("a good password", chromedp.SetValue(chromedp.ID("set-password-password"), "correct horse battery staple 9"))
	s.submit("set the password", `#set-password button[type="submit"]`)
	s.expectText(".flash", "Password set")
	s.submit("deactivate", `#deactivate button[type="submit"]`)
	s.expectText(".flash", "Deactivated")
	m, _ = s.dev.DB.StaffMember(ctx, "cy-officer")
	want(t, !m.Active, "still active after deactivating")

	// Teams.
	s.open("/admin/teams")
	s.expectText("tbody", "Pentonville resettlement", "Brixton resettlement")
	s.noSidewaysScroll()
	s.shoot("admin-teams")
	s.open("/admin/teams/new")
	s.do("bad team", chromedp.SetValue(chromedp.ID("team-name"), "Wandsworth resettlement"), chromedp.SetValue(chromedp.ID("team-establishment"), "W1"),
		chromedp.SetValue(chromedp.ID("team-email"), "queue@"))
	s.submit("add a bad team", `#team button[type="submit"]`)
	s.summaryNames(map[string]string{"team-id": "Team id must be lower-case", "team-establishment": "Prison must be a three-letter prison code",
		"team-email": "Queue email address must be an email address"})
	want(t, s.value("team-name") == "Wandsworth resettlement" && s.value("team-establishment") == "W1", "the team form lost what was typed")
	s.shoot("admin-team-errors")
	s.do("good team", chromedp.SetValue(chromedp.ID("team-id"), "wwi-resettlement"), chromedp.SetValue(chromedp.ID("team-establishment"), "wwi"),
		chromedp.SetValue(chromedp.ID("team-email"), "wwi@example.org"),
		chromedp.SetValue(chromedp.ID("team-head"), "head-1"), chromedp.SetValue(chromedp.ID("team-manager"), "manager-1"))
	s.submit("add the team", `#team button[type="submit"]`)
	s.expectText(".flash", "Added the team Wandsworth resettlement")
	s.open("/admin/teams/wwi-resettlement")
	s.shoot("admin-team-edit")
	s.do("a bad email", chromedp.SetValue(chromedp.ID("team-email"), "queue@"))
	s.submit("save a bad email", `#team button[type="submit"]`)
	s.summaryNames(map[string]string{"team-email": "must be an email address"})
	s.do("untick active", chromedp.SetValue(chromedp.ID("team-email"), "queue@wwi.example.org"), chromedp.Click(chromedp.ID("team-active")))
	s.submit("deactivate the team", `#team button[type="submit"]`)
	s.expectText(".flash", "Saved the changes")
	tm, _ := s.dev.DB.Team(ctx, "wwi-resettlement")
	want(t, !tm.Active && tm.Email == "queue@wwi.example.org" && tm.Head == "head-1" && tm.Manager == "manager-1", "the team is %+v", tm)

	// The audit log: filters, a bad day, pages and CSV.
	s.open("/admin/audit?actor=officer-1")
	s.expectText("tbody", "officer-1", "case.")
	s.noSidewaysScroll()
	s.shoot("admin-audit")
	s.do("a bad day", s.setDate("audit-filters-from", "2026-02-30"), chromedp.SetValue(chromedp.ID("audit-filters-action"), "case."))
	if status := s.submit("filter by a bad day", `#audit-filters button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("a bad day: %d", status)
	}
	s.summaryNames(map[string]string{"audit-filters-from": "From must be a real date"})
	want(t, s.value("audit-filters-action") == "case." && s.value("audit-filters-from") == "30", "the filters lost what was typed")
	s.shoot("admin-audit-errors")
	resp, body := s.fetch(http.MethodGet, "/admin/audit.csv?actor=officer-1&action=case.", nil)
	want(t, resp.StatusCode == http.StatusOK && strings.HasPrefix(body, "id,at,actor,action,case_id,detail,remote") && strings.Contains(body, ",officer-1,case."),
		"audit.csv %d:\n%.400s", resp.StatusCode, body)
	entries, _ := s.dev.DB.AuditLog(ctx, postgres.AuditFilter{Actor: "admin-1", Action: "audit.export"})
	want(t, len(entries) == 1, "the export was audited %d times", len(entries))
	s.signOut()
}
