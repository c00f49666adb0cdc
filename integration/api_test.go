package integration

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// openBody is a request to open a case at Pentonville (or Brixton).
func openBody(prisonNumber, booking, establishment string, today resettlement.Date) map[string]any {
	team := map[string]string{"PVI": "pvi-resettlement", "BXI": "bxi-resettlement"}[establishment]
	owner := map[string]string{"PVI": "officer-1", "BXI": "officer-2"}[establishment]
	return map[string]any{
		"owner": owner,
		"person": map[string]any{"prison_number": prisonNumber, "booking": booking, "given_name": "Sam", "family_name": "Example",
			"date_of_birth": "1990-05-17", "local_authority": "Islington"},
		"establishment": establishment, "team": team, "received_on": today.AddDays(-10).String(),
		"release_dates": map[string]any{"crd": today.AddDays(60).String()},
	}
}

// TestAPI drives every endpoint over HTTP against the real dev stack, as
// each role, with every response checked against the OpenAPI document.
func TestAPI(t *testing.T) {
	// Every request comes from 127.0.0.1: allow the test's own sign-ins
	// (and their second steps, which count against the same limit).
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"), "--signin-rate", "30"))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())

	officer1 := signIn(t, d, "officer-1")
	officer2 := signIn(t, d, "bea.officer@bxi.example.org") // by email
	manager1 := signIn(t, d, "manager-1")
	manager2 := signIn(t, d, "manager-2")
	head := signIn(t, d, "head-1")
	admin := signIn(t, d, "admin-1")
	anonymous := newClient(t, d.URL)

	var caseID, bxiCase string

	t.Run("sign-in", func(t *testing.T) {
		p := anonymous.want(anonymous.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-1", "password": "wrong password!"}, nil), 401, "bad password").problem(t)
		if p.Detail == "" {
			t.Error("no detail")
		}
		anonymous.want(anonymous.do("POST", "/api/v1/auth/login", map[string]string{"login": "nobody@example.org", "password": "whatever12345"}, nil), 401, "unknown account")
		anonymous.want(anonymous.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-1"}, nil), 422, "no password")
		anonymous.want(anonymous.do("GET", "/api/v1/me", nil, nil), 401, "anonymous /me")
		anonymous.want(anonymous.do("GET", "/api/v1/cases", nil, nil), 401, "anonymous list")

		var me api.Me
		officer1.want(officer1.do("GET", "/api/v1/me", nil, nil), 200, "me").decode(t, &me)
		if me.Staff.ID != "officer-1" || me.Via != "session" || !slices.Equal(me.Establishments, []string{"PVI"}) || me.SeesBoard {
			t.Errorf("officer's /me %+v", me)
		}
		manager1.want(manager1.do("GET", "/api/v1/me", nil, nil), 200, "me").decode(t, &me)
		if !slices.Equal(me.Teams, []string{"pvi-resettlement"}) || !me.SeesBoard {
			t.Errorf("manager's /me %+v", me)
		}
		head.want(head.do("GET", "/api/v1/me", nil, nil), 200, "me").decode(t, &me)
		if !slices.Equal(me.Teams, []string{"bxi-resettlement", "pvi-resettlement"}) {
			t.Errorf("head's /me %+v", me)
		}

		// The session cookie: HttpOnly, SameSite=Lax; on plain-http loopback
		// the development name without __Host- and Secure.
		c := newClient(t, d.URL)
		r := c.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-1", "password": devstack.DemoPassword}, nil)
		cookie := r.header.Get("Set-Cookie")
		if !strings.HasPrefix(cookie, "tg_session=tgs_") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || strings.Contains(cookie, "Secure") {
			t.Errorf("cookie %q", cookie)
		}
		// A cookie-authenticated change from another site is refused (CSRF)…
		c.origin = "https://evil.example"
		c.want(c.do("PATCH", "/api/v1/me", map[string]string{"notify": "digest"}, nil), 403, "cross-site change")
		c.want(c.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-1", "password": devstack.DemoPassword}, nil), 403, "cross-site sign-in")
		// …while a cross-site read is harmless and allowed.
		c.want(c.do("GET", "/api/v1/me", nil, nil), 200, "cross-site read")
		c.origin = ""
		c.want(c.do("POST", "/api/v1/auth/logout", nil, nil), 204, "sign out")
		c.want(c.do("GET", "/api/v1/me", nil, nil), 401, "after sign-out")
	})

	t.Run("tokens", func(t *testing.T) {
		var tok api.NewToken
		officer1.want(officer1.do("POST", "/api/v1/tokens", map[string]any{"name": "script", "expires_in_days": 7}, nil), 201, "create token").decode(t, &tok)
		if !strings.HasPrefix(tok.Token, "tgp_") {
			t.Fatalf("token %+v", tok)
		}
		bot := newClient(t, d.URL)
		bot.bearer = tok.Token
		var me api.Me
		bot.want(bot.do("GET", "/api/v1/me", nil, nil), 200, "me by token").decode(t, &me)
		if me.Staff.ID != "officer-1" || me.Via != "token" {
			t.Errorf("%+v", me)
		}
		// Cross-origin checks apply to cookies, not bearer tokens.
		bot.origin = "https://evil.example"
		bot.want(bot.do("PATCH", "/api/v1/me", map[string]string{"notify": "each"}, nil), 200, "token change with an Origin")
		bot.origin = ""
		// A token cannot make tokens, change the password or manage two-step
		// sign-in: those need the person, in a session.
		bot.want(bot.do("POST", "/api/v1/tokens", map[string]any{"name": "another"}, nil), 403, "a token makes a token").problem(t)
		bot.want(bot.do("PUT", "/api/v1/me/password", map[string]any{"current": devstack.DemoPassword, "password": "a token's new password"}, nil), 403, "a token changes the password")
		bot.want(bot.do("GET", "/api/v1/me/mfa", nil, nil), 403, "a token reads two-step sign-in")
		bot.want(bot.do("POST", "/api/v1/me/mfa/totp", nil, nil), 403, "a token sets up an authenticator app")
		var list struct{ Items []postgres.Token }
		officer1.want(officer1.do("GET", "/api/v1/tokens", nil, nil), 200, "list tokens").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Name != "script" {
			t.Errorf("tokens %+v", list)
		}
		if strings.Contains(string(officer1.do("GET", "/api/v1/tokens", nil, nil).body), tok.Token) {
			t.Error("the token's secret is listed")
		}
		officer2.want(officer2.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil), 404, "revoke another's token")
		officer1.want(officer1.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil), 204, "revoke")
		bot.want(bot.do("GET", "/api/v1/me", nil, nil), 401, "revoked token")
		bot.bearer = "tgp_" + strings.Repeat("A", 43)
		bot.want(bot.do("GET", "/api/v1/me", nil, nil), 401, "made-up token")
		officer1.want(officer1.do("POST", "/api/v1/tokens", map[string]any{"name": ""}, nil), 422, "token without a name")
	})

	t.Run("open", func(t *testing.T) {
		body := openBody("A1234BC", "1", "PVI", today)
		key := map[string]string{"Idempotency-Key": "open-a1234bc"}
		var c api.CaseView
		r := officer1.want(officer1.do("POST", "/api/v1/cases", body, key), 201, "open")
		r.decode(t, &c)
		caseID = c.ID
		if c.ID == "" || c.Person.PrisonNumber != "A1234BC" || c.Establishment != "PVI" || len(c.Steps) == 0 || !c.Live {
			t.Fatalf("opened %+v", c)
		}
		if r.header.Get("Location") != "/api/v1/cases/"+c.ID {
			t.Errorf("location %q", r.header.Get("Location"))
		}
		// A retry with the same key answers with the same case.
		var again api.CaseView
		officer1.want(officer1.do("POST", "/api/v1/cases", body, key), 200, "retried open").decode(t, &again)
		if again.ID != c.ID {
			t.Errorf("retry opened %s, first %s", again.ID, c.ID)
		}
		// Another open for the same person and booking: 409, naming the case
		// for someone who may see it…
		p := officer1.want(officer1.do("POST", "/api/v1/cases", body, map[string]string{"Idempotency-Key": "other"}), 409, "second open").problem(t)
		if p.CaseID != c.ID {
			t.Errorf("409 for a visible case should name it: %+v", p)
		}
		// …and not for someone who may not.
		p = officer2.want(officer2.do("POST", "/api/v1/cases", openBody("A1234BC", "1", "BXI", today), nil), 409, "second open elsewhere").problem(t)
		if p.CaseID != "" || strings.Contains(p.Detail, c.ID) {
			t.Errorf("409 leaks a case the caller cannot see: %+v", p)
		}
		var bx api.CaseView
		officer2.want(officer2.do("POST", "/api/v1/cases", openBody("B2345CD", "7", "BXI", today), nil), 201, "open at Brixton").decode(t, &bx)
		bxiCase = bx.ID

		// Out of scope, wrong role.
		officer1.want(officer1.do("POST", "/api/v1/cases", openBody("C3456DE", "1", "BXI", today), nil), 403, "officer opens at another prison")
		admin.want(admin.do("POST", "/api/v1/cases", openBody("C3456DE", "1", "PVI", today), nil), 403, "admin opens a case")

		// Field errors, in the request's own terms.
		bad := func(mutate func(map[string]any), field string, status int) {
			t.Helper()
			b := openBody("D4567EF", "1", "PVI", today)
			mutate(b)
			p := officer1.want(officer1.do("POST", "/api/v1/cases", b, nil), status, "bad open "+field).problem(t)
			if !hasField(p, field) {
				t.Errorf("problem %+v does not name %s", p, field)
			}
		}
		bad(func(b map[string]any) { b["person"].(map[string]any)["prison_number"] = "1234567" }, "person.prison_number", 422)
		bad(func(b map[string]any) { b["person"].(map[string]any)["date_of_birth"] = "17/05/1990" }, "person.date_of_birth", 422)
		bad(func(b map[string]any) { b["release_dates"] = map[string]any{"crd": "2026-02-30"} }, "release_dates.crd", 422)
		bad(func(b map[string]any) { b["received_on"] = today.AddDays(5).String() }, "received_on", 422)
		bad(func(b map[string]any) { b["nickname"] = "Sammy" }, "nickname", 422)
		bad(func(b map[string]any) { b["team"] = "no-such-team" }, "team", 422)
		bad(func(b map[string]any) { b["owner"] = "ghost" }, "owner", 422)
		bad(func(b map[string]any) { b["establishment"] = 7 }, "establishment", 422)
		p = officer1.want(officer1.do("POST", "/api/v1/cases", "{not json", nil), 400, "bad JSON").problem(t)
		if !hasField(p, "body") {
			t.Errorf("%+v", p)
		}
		big := `{"person":{"given_name":"` + strings.Repeat("x", api.MaxBody) + `"}}`
		officer1.want(officer1.do("POST", "/api/v1/cases", big, nil), 413, "too big").problem(t)
		officer1.want(officer1.do("POST", "/api/v1/cases", openBody("D4567EF", "1", "PVI", today), map[string]string{"Idempotency-Key": "has space"}), 400, "bad key")
		r = officer1.do("POST", "/api/v1/cases", "<xml/>", map[string]string{"Content-Type": "text/xml"})
		officer1.want(r, 415, "not JSON")
	})
	if caseID == "" {
		t.Fatal("no case to go on with")
	}
	casePath := "/api/v1/cases/" + caseID

	t.Run("get and timeline", func(t *testing.T) {
		var c api.CaseView
		officer1.want(officer1.do("GET", casePath, nil, nil), 200, "get").decode(t, &c)
		if c.ID != caseID || !c.Live || c.Person.GivenName != "Sam" || c.ReleaseDates.CRD != today.AddDays(60) {
			t.Errorf("case %+v", c)
		}
		manager1.want(manager1.do("GET", casePath, nil, nil), 200, "manager of the team")
		head.want(head.do("GET", casePath, nil, nil), 200, "head of service")
		var tl api.TimelineView
		officer1.want(officer1.do("GET", casePath+"/timeline", nil, nil), 200, "timeline").decode(t, &tl)
		waitFor(t, "the opening to reach the timeline", 20*time.Second, func() bool {
			officer1.do("GET", casePath+"/timeline", nil, nil).decode(t, &tl)
			return len(tl.Entries) > 0
		})
		if tl.Entries[0].Kind != "opened" {
			t.Errorf("timeline %+v", tl.Entries)
		}
		officer1.want(officer1.do("GET", "/api/v1/cases/nosuchcase", nil, nil), 404, "no such case")
	})

	t.Run("actions", func(t *testing.T) {
		step := casePath + "/steps/immediate-needs/actions"
		var first, second api.ActionResult
		officer1.want(officer1.act(step, "k-start", map[string]any{"action": "start", "note": "Spoke to Sam on the wing"}), 200, "start").decode(t, &first)
		// The same key again: the same answer, nothing done twice.
		officer1.want(officer1.act(step, "k-start", map[string]any{"action": "start", "note": "Spoke to Sam on the wing"}), 200, "retried start").decode(t, &second)
		if first != second {
			t.Errorf("retry answered %+v, first %+v", second, first)
		}
		// A different key for the same start: the step is already in progress.
		officer1.want(officer1.act(step, "k-start-2", map[string]any{"action": "start"}), 409, "start twice").problem(t)
		officer1.want(officer1.do("POST", step, map[string]any{"action": "complete"}, nil), 400, "no Idempotency-Key")
		p := officer1.want(officer1.act(step, "k-n", map[string]any{"action": "waiting"}), 422, "waiting without a note").problem(t)
		if !hasField(p, "note") {
			t.Errorf("%+v", p)
		}
		p = officer1.want(officer1.act(step, "k-x", map[string]any{"action": "dance"}), 422, "unknown action").problem(t)
		if !hasField(p, "action") {
			t.Errorf("%+v", p)
		}
		p = officer1.want(officer1.act(casePath+"/steps/nope/actions", "k-y", map[string]any{"action": "start"}), 422, "no such step").problem(t)
		if !hasField(p, "step_id") {
			t.Errorf("%+v", p)
		}
		officer1.want(officer1.act(step, "k-done", map[string]any{"action": "complete", "note": "No urgent needs"}), 200, "complete")

		var tl api.TimelineView
		waitFor(t, "the actions to reach the timeline", 20*time.Second, func() bool {
			officer1.do("GET", casePath+"/timeline", nil, nil).decode(t, &tl)
			return slices.ContainsFunc(tl.Entries, func(e postgres.TimelineEntry) bool {
				return e.To == resettlement.StepDone && e.StepID == "immediate-needs"
			})
		})
		starts, notes := 0, 0
		for _, e := range tl.Entries {
			if e.StepID == "immediate-needs" && e.To == resettlement.StepInProgress {
				starts++
			}
			if e.Note == "Spoke to Sam on the wing" {
				notes++
			}
		}
		if starts != 1 || notes != 1 {
			t.Errorf("idempotency: %d starts and %d notes recorded for one request sent twice", starts, notes)
		}

		officer1.want(officer1.act(casePath+"/assessment", "k-as", map[string]any{"needs": []map[string]string{
			{"pathway": "health", "status": "support-not-required"}, {"pathway": "drugs-alcohol", "status": "support-required"}}}), 200, "assessment")
		p = officer1.want(officer1.act(casePath+"/assessment", "k-as2", map[string]any{"needs": []map[string]string{{"pathway": "hobbies", "status": "done"}}}), 422, "bad pathway").problem(t)
		if !hasField(p, "needs[0].pathway") {
			t.Errorf("%+v", p)
		}
		manager1.want(manager1.act(casePath+"/steps/housing-referral/assign", "k-as-1", map[string]any{"owner": map[string]string{"staff": "officer-1", "team": "pvi-resettlement"}}), 409, "assign to the owner it has")
		manager1.want(manager1.act(casePath+"/steps/housing-referral/assign", "k-as-2", map[string]any{"owner": map[string]string{"team": "pvi-resettlement"}, "note": "To the queue while Olu is away"}), 200, "assign to the queue")
		p = manager1.want(manager1.act(casePath+"/steps/housing-referral/assign", "k-as-3", map[string]any{"owner": map[string]string{"staff": "ghost", "team": "pvi-resettlement"}}), 422, "assign to nobody").problem(t)
		if !hasField(p, "owner.staff") {
			t.Errorf("%+v", p)
		}
		manager1.want(manager1.act(casePath+"/assign", "k-case", map[string]any{"owner": map[string]string{"staff": "manager-1", "team": "pvi-resettlement"}}), 200, "assign case")
		officer1.want(officer1.act(casePath+"/release-dates", "k-rd", map[string]any{"release_dates": map[string]string{"crd": today.AddDays(70).String()}, "reason": "added-days"}), 200, "release dates")
		p = officer1.want(officer1.act(casePath+"/release-dates", "k-rd2", map[string]any{"release_dates": map[string]string{"crd": "soon"}, "reason": "added-days"}), 422, "bad date").problem(t)
		if !hasField(p, "release_dates.crd") {
			t.Errorf("%+v", p)
		}
		// Contradictory dates name the date at fault, through the workflow's validator.
		p = officer1.want(officer1.act(casePath+"/release-dates", "k-rd3", map[string]any{"release_dates": map[string]string{
			"crd": today.AddDays(70).String(), "hdcad": today.AddDays(80).String()}, "reason": "hdc-decision"}), 422, "HDCAD after CRD").problem(t)
		if !hasField(p, "release_dates.hdcad") {
			t.Errorf("%+v", p)
		}
		officer1.want(officer1.act(casePath+"/release-dates", "k-rd4", map[string]any{"release_dates": map[string]string{"crd": today.AddDays(70).String()},
			"sentence_date": today.AddDays(-30).String(), "reason": "correction"}), 200, "sentence date")
		officer1.want(officer1.act(casePath+"/pause", "k-p", map[string]any{"reason": "awaiting-court-date"}), 200, "pause")
		officer1.want(officer1.act(casePath+"/pause", "k-p2", map[string]any{"reason": "other", "note": "again"}), 409, "pause twice")
		officer1.want(officer1.act(casePath+"/resume", "k-r", nil), 200, "resume")
		officer1.want(officer1.act(casePath+"/reset", "k-reset", map[string]any{"reason": "new-sentence", "received_on": today.AddDays(-1).String(),
			"release_dates": map[string]string{"crd": today.AddDays(90).String()}, "note": "Returned on a new sentence"}), 200, "reset")
		p = officer1.want(officer1.act(casePath+"/close", "k-c0", map[string]any{"reason": "other"}), 422, "close for another reason without a note").problem(t)
		if !hasField(p, "note") {
			t.Errorf("%+v", p)
		}
		officer1.want(officer1.act(casePath+"/transfer", "k-t0", map[string]any{"to": "BXI", "to_team": "pvi-resettlement"}), 422, "transfer to a team elsewhere")

		// Out of scope by every action route: 404, as if there were no case.
		for _, path := range []string{"/steps/immediate-needs/actions", "/steps/housing-referral/assign", "/assign", "/assessment",
			"/release-dates", "/transfer", "/pause", "/resume", "/reset", "/close"} {
			officer2.want(officer2.act(casePath+path, "k-o2", map[string]any{"note": "x"}), 404, "other prison's officer: "+path)
			manager2.want(manager2.act(casePath+path, "k-m2", map[string]any{"note": "x"}), 404, "other team's manager: "+path)
			admin.want(admin.act(casePath+path, "k-ad", map[string]any{"note": "x"}), 403, "administrator: "+path)
		}
	})

	t.Run("list and search", func(t *testing.T) {
		var list api.CaseList
		officer1.want(officer1.do("GET", "/api/v1/cases", nil, nil), 200, "list").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != caseID {
			t.Errorf("officer-1 sees %+v", list.Items)
		}
		officer2.want(officer2.do("GET", "/api/v1/cases", nil, nil), 200, "list").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != bxiCase {
			t.Errorf("officer-2 sees %+v", list.Items)
		}
		head.want(head.do("GET", "/api/v1/cases?limit=1", nil, nil), 200, "page 1").decode(t, &list)
		if len(list.Items) != 1 || list.NextCursor == "" {
			t.Fatalf("page 1 %+v", list)
		}
		seen, cursor := list.Items[0].ID, list.NextCursor
		list = api.CaseList{}
		head.want(head.do("GET", "/api/v1/cases"+q(url.Values{"limit": {"1"}, "cursor": {cursor}}), nil, nil), 200, "page 2").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID == seen || list.NextCursor != "" {
			var all api.CaseList
			head.do("GET", "/api/v1/cases", nil, nil).decode(t, &all)
			t.Errorf("page 2 %+v; all %+v", list, all)
		}
		head.want(head.do("GET", "/api/v1/cases?establishment=BXI", nil, nil), 200, "filtered").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != bxiCase {
			t.Errorf("BXI filter %+v", list.Items)
		}
		head.want(head.do("GET", "/api/v1/cases?release_within_days=30", nil, nil), 200, "release within").decode(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("release within 30 days %+v", list.Items)
		}
		head.want(head.do("GET", "/api/v1/cases?overdue=false&stalled=false&stage=assessment", nil, nil), 200, "more filters")
		p := head.want(head.do("GET", "/api/v1/cases?q=Example", nil, nil), 400, "q in the URL").problem(t)
		if !hasField(p, "q") {
			t.Errorf("%+v", p)
		}
		p = head.want(head.do("GET", "/api/v1/cases?limit=500&stalled=maybe&colour=red", nil, nil), 422, "bad filters").problem(t)
		if !hasField(p, "limit") || !hasField(p, "stalled") || !hasField(p, "colour") {
			t.Errorf("%+v", p)
		}
		head.want(head.do("GET", "/api/v1/cases?cursor=garbage", nil, nil), 422, "bad cursor")
		officer1.want(officer1.do("POST", "/api/v1/cases/search", map[string]any{"q": "a1234bc"}, nil), 200, "search by prison number").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != caseID {
			t.Errorf("search %+v", list.Items)
		}
		officer1.want(officer1.do("POST", "/api/v1/cases/search", map[string]any{"q": "sam exam"}, nil), 200, "search by name").decode(t, &list)
		if len(list.Items) != 1 {
			t.Errorf("search by name %+v", list.Items)
		}
		// Officer 2 cannot find Pentonville's person by searching.
		officer2.want(officer2.do("POST", "/api/v1/cases/search", map[string]any{"q": "A1234BC"}, nil), 200, "search elsewhere").decode(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("officer-2 found %+v", list.Items)
		}
		officer1.want(officer1.do("POST", "/api/v1/cases/search", map[string]any{"q": "x"}, nil), 422, "one-letter search")
		admin.want(admin.do("GET", "/api/v1/cases", nil, nil), 403, "administrator lists cases")
	})

	t.Run("scope", func(t *testing.T) {
		// Another prison's officer, another team's manager: nothing by any route.
		for _, c := range []*apiClient{officer2, manager2} {
			c.want(c.do("GET", casePath, nil, nil), 404, "get")
			c.want(c.do("GET", casePath+"/timeline", nil, nil), 404, "timeline")
		}
		admin.want(admin.do("GET", casePath, nil, nil), 403, "administrator reads a case")
		admin.want(admin.do("GET", casePath+"/timeline", nil, nil), 403, "administrator reads a timeline")
		officer1.want(officer1.do("GET", "/api/v1/cases/"+bxiCase, nil, nil), 404, "the other way round")
		// The refusals are audited.
		entries, err := d.DB.AuditLog(ctx, postgres.AuditFilter{CaseID: caseID, Action: "case.denied"})
		if err != nil || len(entries) == 0 {
			t.Errorf("denied reads not audited: %v %d", err, len(entries))
		}
	})

	t.Run("board", func(t *testing.T) {
		// Cases planned long ago with nothing done since: overdue steps and
		// stalled. Written straight into the read model (no workflow).
		now := time.Now()
		var synth []postgres.SyntheticCase
		for i, est := range []string{"PVI", "PVI", "BXI"} {
			team := map[string]string{"PVI": "pvi-resettlement", "BXI": "bxi-resettlement"}[est]
			c, err := resettlement.Open(resettlement.OpenCase{CaseID: fmt.Sprintf("synth-board-%d", i), Establishment: est, Team: team,
				Owner: "officer-1", ReceivedOn: today.AddDays(-90), Dates: resettlement.ReleaseDates{CRD: today.AddDays(5 + 30*i)}, Adult: true},
				now.Add(-60*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			synth = append(synth, postgres.SyntheticCase{Person: postgres.Person{PrisonNumber: fmt.Sprintf("Z%04dZZ", i), Booking: "1",
				GivenName: "Board", FamilyName: fmt.Sprintf("Person %d", i), DateOfBirth: resettlement.D(1980, 1, 1)},
				Case: c, Stage: c.Stage(now), Stalled: c.Stalled(now)})
		}
		if err := d.DB.LoadSynthetic(ctx, synth); err != nil {
			t.Fatal(err)
		}
		var b api.Board
		manager1.want(manager1.do("GET", "/api/v1/board", nil, nil), 200, "board").decode(t, &b)
		if len(b.Items) == 0 {
			t.Fatal("empty board")
		}
		for i, it := range b.Items {
			if it.Team != "pvi-resettlement" {
				t.Errorf("manager-1's board shows %s's case %s", it.Team, it.CaseID)
			}
			if i > 0 && b.Items[i].Urgency.Less(b.Items[i-1].Urgency) {
				t.Errorf("board out of order at %d: %+v before %+v", i, b.Items[i-1].Urgency, it.Urgency)
			}
		}
		if b.Items[0].Urgency.Severity != resettlement.SeverityCritical || b.Items[0].CaseID != "synth-board-0" {
			t.Errorf("most urgent first: %+v", b.Items[0])
		}
		kinds := map[string]int{}
		for _, it := range b.Items {
			kinds[it.Kind]++
		}
		if kinds["overdue-step"] == 0 || kinds["stalled-case"] != 2 {
			t.Errorf("board kinds %v", kinds)
		}
		manager2.want(manager2.do("GET", "/api/v1/board", nil, nil), 200, "other board").decode(t, &b)
		for _, it := range b.Items {
			if it.Team != "bxi-resettlement" {
				t.Errorf("manager-2's board shows %+v", it)
			}
		}
		manager1.want(manager1.do("GET", "/api/v1/board?pathway=accommodation&limit=1", nil, nil), 200, "filtered board").decode(t, &b)
		if len(b.Items) != 1 || b.Items[0].Pathway != resettlement.Accommodation || b.NextCursor == "" {
			t.Errorf("pathway filter %+v", b)
		}
		manager1.want(manager1.do("GET", "/api/v1/board?cursor="+b.NextCursor+"&limit=1", nil, nil), 200, "board page 2")
		var head1 api.Board
		head.want(head.do("GET", "/api/v1/board?establishment=BXI", nil, nil), 200, "head's board").decode(t, &head1)
		if head1.Total == 0 || head1.Items[0].Establishment != "BXI" {
			t.Errorf("head's BXI board %+v", head1)
		}
		manager1.want(manager1.do("GET", "/api/v1/board?pathway=hobbies", nil, nil), 422, "bad pathway")
		officer1.want(officer1.do("GET", "/api/v1/board", nil, nil), 403, "officer's board")
		officer1.want(officer1.do("GET", "/api/v1/board/summary", nil, nil), 403, "officer's summary")
		admin.want(admin.do("GET", "/api/v1/board", nil, nil), 403, "administrator's board")

		var sum api.BoardSummary
		head.want(head.do("GET", "/api/v1/board/summary", nil, nil), 200, "summary").decode(t, &sum)
		if sum.StalledCases != 3 || len(sum.Teams) != 2 || len(sum.Pathways) == 0 {
			t.Errorf("summary %+v", sum)
		}

		// Bulk reassignment: each item answered on its own.
		var res api.ReassignResults
		manager1.want(manager1.act("/api/v1/board/reassign", "bulk-1", map[string]any{"items": []map[string]any{
			{"case_id": caseID, "step_id": "needs-assessment", "owner": map[string]string{"staff": "officer-1", "team": "pvi-resettlement"}},
			{"case_id": bxiCase, "step_id": "needs-assessment", "owner": map[string]string{"staff": "officer-1", "team": "pvi-resettlement"}},
			{"case_id": caseID, "step_id": "no-such-step", "owner": map[string]string{"team": "pvi-resettlement"}},
			{"case_id": caseID, "step_id": "gp-registration", "owner": map[string]string{"staff": "ghost", "team": "pvi-resettlement"}},
		}}), 200, "bulk reassign").decode(t, &res)
		got := []int{}
		for _, r := range res.Results {
			got = append(got, r.Status)
		}
		if !slices.Equal(got, []int{200, 404, 422, 422}) {
			t.Errorf("bulk results %v: %+v", got, res.Results)
		}
		officer1.want(officer1.act("/api/v1/board/reassign", "bulk-2", map[string]any{"items": []map[string]any{}}), 403, "officer bulk")
		manager1.want(manager1.act("/api/v1/board/reassign", "bulk-3", map[string]any{"items": []map[string]any{}}), 422, "empty bulk")
	})

	t.Run("transfer and close", func(t *testing.T) {
		officer1.want(officer1.act(casePath+"/transfer", "k-t", map[string]any{"to": "BXI", "to_team": "bxi-resettlement", "note": "Moved to Brixton"}), 200, "transfer")
		// The case went with the person: Brixton sees it now, Pentonville not.
		officer1.want(officer1.do("GET", casePath, nil, nil), 404, "sending officer after transfer")
		var c api.CaseView
		officer2.want(officer2.do("GET", casePath, nil, nil), 200, "receiving officer").decode(t, &c)
		if c.Establishment != "BXI" || !slices.ContainsFunc(c.Steps, func(s api.StepView) bool { return s.ID == "handover-1" }) {
			t.Errorf("after transfer %+v", c)
		}
		officer2.want(officer2.act(casePath+"/close", "k-close", map[string]any{"reason": "transferred-to-hospital",
			"outcome": map[string]bool{"gp_registered": true}}), 200, "close")
		officer2.want(officer2.act(casePath+"/pause", "k-after", map[string]any{"reason": "awaiting-court-date"}), 409, "act on a closed case")
		var list api.CaseList
		officer2.want(officer2.do("GET", "/api/v1/cases?stage=closed", nil, nil), 200, "closed cases").decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != caseID {
			t.Errorf("closed list %+v", list.Items)
		}
	})

	t.Run("staff and teams", func(t *testing.T) {
		var s postgres.Staff
		admin.want(admin.do("POST", "/api/v1/teams", map[string]any{"id": "wdi-resettlement", "name": "Wandsworth resettlement",
			"establishment": "WDI", "email": "resettlement@wdi.example.org", "manager": "manager-1", "head": "head-1"}, nil), 201, "create team")
		admin.want(admin.do("POST", "/api/v1/teams", map[string]any{"id": "wdi-resettlement", "name": "Again", "establishment": "WDI"}, nil), 409, "team twice")
		p := admin.want(admin.do("POST", "/api/v1/teams", map[string]any{"id": "x-team", "name": "X", "establishment": "Wandsworth", "manager": "officer-1"}, nil), 422, "bad team").problem(t)
		if !hasField(p, "establishment") || !hasField(p, "manager") {
			t.Errorf("%+v", p)
		}
		admin.want(admin.do("POST", "/api/v1/staff", map[string]any{"id": "officer-3", "name": "Wes Officer", "email": "wes@wdi.example.org",
			"role": "officer", "team": "wdi-resettlement", "password": "a long enough password"}, nil), 201, "create staff").decode(t, &s)
		if s.ID != "officer-3" || !s.Active || s.Notify != "each" {
			t.Errorf("%+v", s)
		}
		p = admin.want(admin.do("POST", "/api/v1/staff", map[string]any{"id": "Officer 4", "name": "", "email": "nope", "role": "boss", "password": "short"}, nil), 422, "bad staff").problem(t)
		for _, f := range []string{"id", "name", "email", "role", "password"} {
			if !hasField(p, f) {
				t.Errorf("no error for %s: %+v", f, p)
			}
		}
		admin.want(admin.do("POST", "/api/v1/staff", map[string]any{"id": "officer-3", "name": "Again", "email": "again@wdi.example.org", "role": "head"}, nil), 409, "staff twice")
		wes := newClient(t, d.URL)
		wes.want(wes.do("POST", "/api/v1/auth/login", map[string]string{"login": "wes@wdi.example.org", "password": "a long enough password"}, nil), 200, "new person signs in")
		// People change their own preferences, and nothing else.
		wes.want(wes.do("PATCH", "/api/v1/staff/officer-3", map[string]any{"notify": "digest", "away_until": today.AddDays(7).String()}, nil), 200, "own preferences").decode(t, &s)
		if s.Notify != "digest" || s.AwayUntil == nil {
			t.Errorf("%+v", s)
		}
		wes.want(wes.do("PATCH", "/api/v1/staff/officer-3", map[string]any{"role": "admin"}, nil), 403, "own role")
		wes.want(wes.do("PATCH", "/api/v1/staff/officer-1", map[string]any{"notify": "digest"}, nil), 403, "another's preferences")
		wes.want(wes.do("PATCH", "/api/v1/me", map[string]any{"notify": "weekly"}, nil), 422, "bad preference")
		wes.want(wes.do("GET", "/api/v1/staff/officer-3", nil, nil), 200, "own record")
		wes.want(wes.do("GET", "/api/v1/staff", nil, nil), 403, "staff list")
		wes.want(wes.do("PUT", "/api/v1/me/password", map[string]any{"current": "wrong", "password": "another long password"}, nil), 422, "wrong current password")
		// Who manages whom.
		var team postgres.Team
		admin.want(admin.do("PATCH", "/api/v1/teams/wdi-resettlement", map[string]any{"manager": "manager-2"}, nil), 200, "new manager").decode(t, &team)
		if team.Manager != "manager-2" || team.Head != "head-1" {
			t.Errorf("%+v", team)
		}
		var me api.Me
		manager2.do("GET", "/api/v1/me", nil, nil).decode(t, &me)
		if !slices.Contains(me.Teams, "wdi-resettlement") {
			t.Errorf("manager-2 does not manage the new team: %+v", me)
		}
		var staff, teams struct{ Items []map[string]any }
		admin.want(admin.do("GET", "/api/v1/staff", nil, nil), 200, "staff").decode(t, &staff)
		admin.want(admin.do("GET", "/api/v1/teams", nil, nil), 200, "teams").decode(t, &teams)
		if len(staff.Items) < 7 || len(teams.Items) < 3 {
			t.Errorf("%d staff, %d teams", len(staff.Items), len(teams.Items))
		}
		var rev casework.Revoked
		admin.want(admin.do("PUT", "/api/v1/staff/officer-3/password", map[string]any{"password": "reset by the admin!"}, nil), 200, "admin sets a password").decode(t, &rev)
		if rev != (casework.Revoked{SessionsEnded: 1, TokensRevoked: 0}) {
			t.Errorf("the password reset ended %+v, want wes's one session", rev)
		}
		wes.want(wes.do("GET", "/api/v1/me", nil, nil), 401, "sessions end when the password changes")
		wes = newClient(t, d.URL)
		wes.want(wes.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-3", "password": "reset by the admin!"}, nil), 200, "new password")
		var tok api.NewToken
		wes.do("POST", "/api/v1/tokens", map[string]any{"name": "x"}, nil).decode(t, &tok)
		admin.want(admin.do("POST", "/api/v1/staff/officer-3/deactivate", nil, nil), 200, "deactivate")
		wes.want(wes.do("GET", "/api/v1/me", nil, nil), 401, "deactivated session")
		wes.bearer = tok.Token
		wes.want(wes.do("GET", "/api/v1/me", nil, nil), 401, "deactivated token")
		admin.want(admin.do("POST", "/api/v1/staff/admin-1/deactivate", nil, nil), 409, "deactivate yourself")
		admin.want(admin.do("POST", "/api/v1/teams/wdi-resettlement/deactivate", nil, nil), 200, "deactivate team")
		manager1.want(manager1.do("POST", "/api/v1/teams", map[string]any{"id": "y", "name": "Y", "establishment": "YYY"}, nil), 403, "manager creates a team")
		admin.want(admin.do("PATCH", "/api/v1/teams/nope", map[string]any{"name": "x"}, nil), 404, "no such team")
	})

	t.Run("two-step sign-in", func(t *testing.T) {
		app := twoStepOf(d, "manager-1")
		if app == nil {
			t.Fatal("manager-1's first sign-in set up no authenticator app")
		}
		// password signs in with the password alone, expecting second.
		password := func(login, second string) *apiClient {
			t.Helper()
			c := newClient(t, d.URL)
			var in api.SignedIn
			c.want(c.do("POST", "/api/v1/auth/login", map[string]string{"login": login, "password": devstack.DemoPassword}, nil), 200, "password of "+login).decode(t, &in)
			if in.SecondFactor != second {
				t.Fatalf("%s's sign-in asks for %q next, want %q", login, in.SecondFactor, second)
			}
			return c
		}

		// After the password only the second step and signing out answer.
		m := password("manager-1", auth.SecondFactorTOTP)
		p := m.want(m.do("GET", "/api/v1/me", nil, nil), 401, "/me before the code").problem(t)
		if !strings.Contains(p.Detail, "/api/v1/auth/mfa") {
			t.Errorf("the refusal does not say where the code goes: %+v", p)
		}
		m.want(m.do("GET", "/api/v1/board", nil, nil), 401, "the board before the code")
		m.want(m.do("POST", "/api/v1/tokens", map[string]any{"name": "halfway"}, nil), 401, "a token before the code")
		var st casework.MFAStatus
		m.want(m.do("GET", "/api/v1/me/mfa", nil, nil), 200, "two-step status before the code").decode(t, &st)
		if !st.TOTP || !st.Required || st.RecoveryCodesLeft != len(app.recovery) {
			t.Errorf("manager-1's two-step status %+v, want on, required, %d recovery codes", st, len(app.recovery))
		}
		p = m.want(m.do("POST", "/api/v1/auth/mfa", map[string]string{"code": wrongTOTPCode(app.secret)}, nil), 401, "a wrong code").problem(t)
		if !hasField(p, "code") {
			t.Errorf("a wrong code: %+v", p)
		}
		m.want(m.do("GET", "/api/v1/me", nil, nil), 401, "/me after a wrong code")
		// The code the app shows now finishes the sign-in…
		code := freshTOTPCode(t, d, "manager-1")
		var in api.SignedIn
		m.want(m.do("POST", "/api/v1/auth/mfa", map[string]string{"code": code}, nil), 200, "the app's code").decode(t, &in)
		if in.Staff.ID != "manager-1" || in.SecondFactor != "" {
			t.Errorf("signed in %+v", in)
		}
		m.want(m.do("GET", "/api/v1/me", nil, nil), 200, "/me after the code")
		m.want(m.do("POST", "/api/v1/auth/mfa", map[string]string{"code": code}, nil), 409, "a code for a session signed in already")
		// …once: the same code for another sign-in is refused (a replay).
		m2 := password("manager-1", auth.SecondFactorTOTP)
		m2.want(m2.do("POST", "/api/v1/auth/mfa", map[string]string{"code": code}, nil), 401, "the same code again")
		m2.want(m2.do("GET", "/api/v1/me", nil, nil), 401, "/me after a replayed code")
		// A recovery code stands in for the app, once.
		recovery := takeRecoveryCode(t, d, "manager-1")
		m2.want(m2.do("POST", "/api/v1/auth/mfa", map[string]string{"code": strings.ToUpper(recovery)}, nil), 200, "a recovery code")
		m2.want(m2.do("GET", "/api/v1/me", nil, nil), 200, "/me after a recovery code")
		m2.want(m2.do("GET", "/api/v1/me/mfa", nil, nil), 200, "two-step status").decode(t, &st)
		if st.RecoveryCodesLeft != len(app.recovery)-1 {
			t.Errorf("%d recovery codes left after using one of %d", st.RecoveryCodesLeft, len(app.recovery))
		}
		m3 := password("manager-1", auth.SecondFactorTOTP)
		m3.want(m3.do("POST", "/api/v1/auth/mfa", map[string]string{"code": recovery}, nil), 401, "a recovery code used already")
		m3.want(m3.do("POST", "/api/v1/auth/logout", nil, nil), 204, "sign out before the code")
		m3.want(m3.do("GET", "/api/v1/me/mfa", nil, nil), 401, "after signing out")
		// A role that requires two steps cannot turn them off.
		m.want(m.do("POST", "/api/v1/me/mfa/disable", map[string]string{"code": wrongTOTPCode(app.secret)}, nil), 403, "a manager turns two-step sign-in off")
		entries, err := d.DB.AuditLog(ctx, postgres.AuditFilter{Actor: "manager-1", Action: "mfa."})
		if err != nil {
			t.Fatal(err)
		}
		audited := map[string]int{}
		for _, e := range entries {
			audited[e.Action+" "+e.Detail]++
		}
		if audited["mfa.verify method=totp"] == 0 || audited["mfa.failed method=totp"] < 2 || audited["mfa.failed method=recovery-code"] == 0 ||
			audited[fmt.Sprintf("mfa.verify method=recovery-code recovery_codes_left=%d", len(app.recovery)-1)] != 1 || audited["mfa.enrol method=totp recovery_codes=10"] != 1 {
			t.Errorf("manager-1's two-step sign-ins audited as %v", audited)
		}

		// An officer may set up an authenticator app, and turn it off.
		officer2.want(officer2.do("GET", "/api/v1/me/mfa", nil, nil), 200, "officer's two-step status").decode(t, &st)
		if st.TOTP || st.Required {
			t.Errorf("officer's two-step status %+v", st)
		}
		var en casework.TOTPEnrolment
		officer2.want(officer2.do("POST", "/api/v1/me/mfa/totp", nil, nil), 201, "officer sets up an app").decode(t, &en)
		secret, err := auth.ParseTOTPSecretText(en.Secret)
		if err != nil || !strings.HasPrefix(en.URI, "otpauth://totp/") {
			t.Fatalf("enrolment %+v: %v", en, err)
		}
		p = officer2.want(officer2.do("POST", "/api/v1/me/mfa/totp/confirm", map[string]string{"code": wrongTOTPCode(secret)}, nil), 422, "confirm with a wrong code").problem(t)
		if !hasField(p, "code") {
			t.Errorf("confirm with a wrong code: %+v", p)
		}
		var codes, fresh api.RecoveryCodes
		officer2.want(officer2.do("POST", "/api/v1/me/mfa/totp/confirm", map[string]string{"code": auth.TOTPCodeAt(secret, time.Now())}, nil), 200, "confirm").decode(t, &codes)
		if len(codes.RecoveryCodes) != auth.RecoveryCodeCount {
			t.Fatalf("%d recovery codes", len(codes.RecoveryCodes))
		}
		officer2.want(officer2.do("GET", "/api/v1/me/mfa", nil, nil), 200, "officer's two-step status").decode(t, &st)
		if !st.TOTP || st.Required || st.RecoveryCodesLeft != auth.RecoveryCodeCount {
			t.Errorf("officer's two-step status after setting up %+v", st)
		}
		officer2.want(officer2.do("POST", "/api/v1/me/mfa/totp", nil, nil), 409, "set up a second app")
		officer2.want(officer2.do("POST", "/api/v1/me/mfa/recovery-codes", map[string]string{"code": codes.RecoveryCodes[0]}, nil), 200, "new recovery codes").decode(t, &fresh)
		if len(fresh.RecoveryCodes) != auth.RecoveryCodeCount || slices.Contains(fresh.RecoveryCodes, codes.RecoveryCodes[1]) {
			t.Errorf("new recovery codes %v", fresh.RecoveryCodes)
		}
		p = officer2.want(officer2.do("POST", "/api/v1/me/mfa/disable", map[string]string{"code": codes.RecoveryCodes[1]}, nil), 422, "turn off with an old recovery code").problem(t)
		if !hasField(p, "code") {
			t.Errorf("an old recovery code: %+v", p)
		}
		officer2.want(officer2.do("POST", "/api/v1/me/mfa/disable", map[string]string{"code": fresh.RecoveryCodes[0]}, nil), 204, "turn off")
		officer2.want(officer2.do("GET", "/api/v1/me/mfa", nil, nil), 200, "officer's two-step status").decode(t, &st)
		if st.TOTP {
			t.Errorf("officer's two-step status after turning off %+v", st)
		}

		// An administrator resets a lost app: the person's sessions end, and
		// their next sign-in sets one up again.
		manager1.want(manager1.do("POST", "/api/v1/staff/manager-2/mfa/reset", nil, nil), 403, "a manager resets another's app")
		admin.want(admin.do("POST", "/api/v1/staff/admin-1/mfa/reset", nil, nil), 409, "an administrator resets their own app")
		var rev casework.Revoked
		admin.want(admin.do("POST", "/api/v1/staff/manager-2/mfa/reset", nil, nil), 200, "reset manager-2's app").decode(t, &rev)
		if rev.SessionsEnded < 1 || rev.TokensRevoked != 0 {
			t.Errorf("the reset ended %+v", rev)
		}
		manager2.want(manager2.do("GET", "/api/v1/me", nil, nil), 401, "manager-2's session after the reset")
		m = password("manager-2", auth.SecondFactorEnrol)
		p = m.want(m.do("GET", "/api/v1/me", nil, nil), 401, "/me before setting up an app").problem(t)
		if !strings.Contains(p.Detail, "/api/v1/me/mfa/totp") {
			t.Errorf("the refusal does not say how to set up an app: %+v", p)
		}
		m.want(m.do("POST", "/api/v1/auth/mfa", map[string]string{"code": "123456"}, nil), 409, "a code before setting up an app")
		m.enrolTOTP(d, "manager-2")
		m.want(m.do("GET", "/api/v1/me", nil, nil), 200, "/me after setting up an app again")
	})

	t.Run("audit", func(t *testing.T) {
		var page api.AuditPage
		admin.want(admin.do("GET", "/api/v1/audit?case_id="+caseID, nil, nil), 200, "audit").decode(t, &page)
		actions := map[string]bool{}
		for _, e := range page.Items {
			actions[e.Action] = true
			if e.Remote != "127.0.0.1" {
				t.Errorf("audit remote %q", e.Remote)
			}
		}
		for _, a := range []string{"case.open", "case.view", "case.timeline", "case.ActOnStep", "case.Transfer", "case.Close", "case.denied"} {
			if !actions[a] {
				t.Errorf("no %s in the case's audit: %v", a, actions)
			}
		}
		admin.want(admin.do("GET", "/api/v1/audit?actor=officer-1&action=case.&limit=2", nil, nil), 200, "filtered audit").decode(t, &page)
		if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].Actor != "officer-1" {
			t.Errorf("page %+v", page)
		}
		admin.want(admin.do("GET", "/api/v1/audit?cursor="+page.NextCursor+"&limit=2", nil, nil), 200, "audit page 2")
		admin.want(admin.do("GET", "/api/v1/audit?from=yesterday", nil, nil), 422, "bad audit filter")
		r := admin.want(admin.do("GET", "/api/v1/audit.csv?from="+today.AddDays(-1).String(), nil, nil), 200, "csv")
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil || len(rows) < 10 || rows[0][0] != "id" {
			t.Errorf("csv: %v %d rows", err, len(rows))
		}
		officer1.want(officer1.do("GET", "/api/v1/audit", nil, nil), 403, "officer reads the audit")
		manager1.want(manager1.do("GET", "/api/v1/audit.csv", nil, nil), 403, "manager exports the audit")
		// Sign-ins and failures are there too.
		admin.do("GET", "/api/v1/audit?action=signin", nil, nil).decode(t, &page)
		if !slices.ContainsFunc(page.Items, func(e postgres.AuditEntry) bool { return e.Action == "signin.failed" }) {
			t.Error("failed sign-ins are not audited")
		}
	})

	t.Run("headers and documents", func(t *testing.T) {
		r := anonymous.want(anonymous.do("GET", "/api/v1/openapi.json", nil, nil), 200, "openapi")
		if !strings.Contains(string(r.body), `"openapi": "3.1.0"`) {
			t.Error("not the 3.1 document")
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
			if r.header.Get(h) == "" {
				t.Errorf("no %s", h)
			}
		}
		anonymous.want(anonymous.do("GET", "/auth/oidc/login", nil, nil), 404, "no single sign-on configured")
		anonymous.want(anonymous.do("GET", "/nowhere", nil, nil), 404, "not found").problem(t)
		anonymous.want(anonymous.do("DELETE", "/api/v1/openapi.json", nil, nil), 405, "method").problem(t)
	})

	t.Run("engine unreachable", func(t *testing.T) {
		// With Temporal gone the read model still answers, marked not live.
		if err := d.Temporal.Stop(); err != nil {
			t.Logf("stopping Temporal: %v", err)
		}
		var c api.CaseView
		officer2.want(officer2.do("GET", "/api/v1/cases/"+bxiCase, nil, nil), 200, "case without the engine").decode(t, &c)
		if c.Live || c.ID != bxiCase || len(c.Steps) == 0 {
			t.Errorf("fallback %+v", c)
		}
	})

	t.Run("sign-in rate limit", func(t *testing.T) {
		c := newClient(t, d.URL)
		limited := false
		for range 40 {
			r := c.do("POST", "/api/v1/auth/login", map[string]string{"login": "officer-1", "password": "guessing-guessing"}, nil)
			if r.status == http.StatusTooManyRequests {
				r.problem(t)
				limited = true
				break
			}
		}
		if !limited {
			t.Error("40 sign-in attempts in a row were never limited")
		}
	})
}
