package integration

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// Issue 10: the holes these tests close each failed before its fix. They
// run over HTTP against the real dev stack (PostgreSQL, the Temporal
// server and the case workflow, the API), as people would meet them: a
// refusal is an application/problem+json document naming the field at
// fault. The subtests share one stack, so each uses its own prison
// numbers and idempotency keys.
func TestSecurity(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	addPentonvilleHousing(t, d)
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	officer1 := signIn(t, d, "officer-1")
	officer2 := signIn(t, d, "officer-2")
	manager1 := signIn(t, d, "manager-1")

	// A key reused for another person is refused (it used to answer with
	// the first case and drop the new person); a true retry answers with
	// the first case only while the caller may still see it.
	t.Run("IdempotencyKeyReplay", func(t *testing.T) {
		off1, off2 := officer1.in(t), officer2.in(t)
		open := func(c *apiClient, body map[string]any, key string) response {
			return c.do("POST", "/api/v1/cases", body, map[string]string{"Idempotency-Key": "replay-" + key})
		}
		var first api.CaseView
		off1.want(open(off1, openBody("A1111AA", "1", "PVI", today), "k1"), 201, "open").decode(t, &first)

		wantProblem(t, open(off1, openBody("B2222BB", "1", "PVI", today), "k1"), 422, "Idempotency-Key", "the key sent again for another person")
		if n := sqlInt(t, d, `select count(*) from cases where prison_number = 'B2222BB'`); n != 0 {
			t.Fatalf("%d cases for the second person", n)
		}
		// The same body with the same key is a retry: the first case, not a second.
		var again api.CaseView
		off1.want(open(off1, openBody("A1111AA", "1", "PVI", today), "k1"), 200, "retry").decode(t, &again)
		if again.ID != first.ID {
			t.Fatalf("retry answered with %s, want %s", again.ID, first.ID)
		}
		// A refused request changed nothing: its key may carry the corrected one.
		bad := openBody("D4444DD", "1", "PVI", today)
		bad["owner"] = "officer-2"
		wantProblem(t, open(off1, bad, "k2"), 422, "owner", "an owner at another prison")
		bad["owner"] = "officer-1"
		off1.want(open(off1, bad, "k2"), 201, "the corrected request with the refused one's key")
		// The key is the officer's own: another officer's k1 is another request.
		var other api.CaseView
		off2.want(open(off2, openBody("C3333CC", "1", "BXI", today), "k1"), 201, "officer-2's k1").decode(t, &other)
		if other.ID == "" || other.ID == first.ID {
			t.Fatalf("officer-2's key answered with officer-1's case %q", other.ID)
		}

		// Transferred to Brixton, the case is out of officer-1's sight: the
		// retry answers as any case they may not see does.
		off1.want(off1.act("/api/v1/cases/"+first.ID+"/transfer", "replay-t1", map[string]any{"to": "BXI", "to_team": "bxi-resettlement"}), 200, "transfer")
		off1.want(open(off1, openBody("A1111AA", "1", "PVI", today), "k1"), 404, "replay after transfer").problem(t)
		if len(auditOf(t, d, "case.denied", first.ID)) == 0 {
			t.Error("the refused replay is not audited")
		}
	})

	// A key names one change: reused on the same case and route with
	// another body it is refused; on another route or case it is another
	// change.
	t.Run("IdempotencyKeyOnActions", func(t *testing.T) {
		off := officer1.in(t)
		c := openCaseOver(t, off, openBody("E1111AA", "1", "PVI", today), "actions-o1")
		e := openCaseOver(t, off, openBody("E2222BB", "1", "PVI", today), "actions-o2")
		paused := func(id string) bool {
			t.Helper()
			rec, err := d.DB.Case(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return rec.Paused
		}

		off.want(off.act("/api/v1/cases/"+c.ID+"/pause", "a1", map[string]any{"reason": resettlement.PauseHospital}), 200, "pause")
		wantProblem(t, off.act("/api/v1/cases/"+c.ID+"/pause", "a1", map[string]any{"reason": resettlement.PauseCourt}), 422, "Idempotency-Key", "the key sent again with another body")
		// A retry of the same change answers as the first did.
		off.want(off.act("/api/v1/cases/"+c.ID+"/pause", "a1", map[string]any{"reason": resettlement.PauseHospital}), 200, "retry")
		// The same key on another route is another change, and is made.
		off.want(off.act("/api/v1/cases/"+c.ID+"/resume", "a1", nil), 200, "resume with the pause's key")
		if paused(c.ID) {
			t.Fatal("the resume sent with the pause's key was swallowed as a retry of the pause")
		}
		// And on another case.
		off.want(off.act("/api/v1/cases/"+e.ID+"/pause", "a1", map[string]any{"reason": resettlement.PauseCourt}), 200, "pause the second case")
		if !paused(e.ID) {
			t.Fatal("the pause of the second case was not made")
		}
	})

	// The same key on two cases used to attach the first case's note to
	// the second; a note of a refused change used to stay behind.
	t.Run("NotesBelongToTheirCase", func(t *testing.T) {
		off := officer1.in(t)
		a := openCaseOver(t, off, openBody("F1111AA", "1", "PVI", today), "notes-o1")
		b := openCaseOver(t, off, openBody("F2222BB", "1", "PVI", today), "notes-o2")
		start := func(id string) string {
			return "/api/v1/cases/" + id + "/steps/" + resettlement.StepHousingReferral + "/actions"
		}
		for _, c := range []struct{ id, note string }{{a.ID, "About the first person."}, {b.ID, "About the second person."}} {
			off.want(off.act(start(c.id), "n1", map[string]any{"action": "start", "note": c.note}), 200, "start with a note")
		}
		for _, c := range []struct{ id, want, not string }{{a.ID, "About the first person.", "second"}, {b.ID, "About the second person.", "first"}} {
			var tl api.TimelineView
			off.want(off.do("GET", "/api/v1/cases/"+c.id+"/timeline", nil, nil), 200, "timeline").decode(t, &tl)
			found := false
			for _, e := range tl.Entries {
				found = found || e.Note == c.want
				if strings.Contains(e.Note, c.not) {
					t.Errorf("case %s shows another case's note %q", c.id, e.Note)
				}
			}
			if !found {
				t.Errorf("case %s lacks its note %q", c.id, c.want)
			}
		}

		// A change the case refuses (the step is already started) keeps no note.
		before := sqlInt(t, d, `select count(*) from notes`)
		off.want(off.act(start(a.ID), "n2", map[string]any{"action": "start", "note": "Refused."}), 409, "starting a started step").problem(t)
		if n := sqlInt(t, d, `select count(*) from notes`); n != before {
			t.Fatalf("the refused change left its note behind (%d notes, want %d)", n, before)
		}
	})

	// Steps and cases go only to people who can see the case, or to teams
	// at its prison: a step given to another prison's officer sent them its
	// reminders while the case answered them 404.
	t.Run("AssignmentStaysWithinTheCase", func(t *testing.T) {
		off, mgr := officer1.in(t), manager1.in(t)
		body := openBody("G1111AA", "1", "PVI", today)
		delete(body, "owner") // the steps start in the team's queue
		c := openCaseOver(t, off, body, "assign-o1")
		casePath := "/api/v1/cases/" + c.ID
		step := func(o resettlement.Owner) response {
			t.Helper()
			return mgr.act(casePath+"/steps/"+resettlement.StepHousingReferral+"/assign", "s-"+o.Team+"-"+o.Staff, map[string]any{"owner": o})
		}
		wantProblem(t, step(resettlement.Owner{Team: "pvi-resettlement", Staff: "officer-2"}), 422, "owner.staff", "another prison's officer")
		wantProblem(t, step(resettlement.Owner{Team: "bxi-resettlement"}), 422, "owner.team", "another prison's team")
		// Managers of another team (at another prison, or at this one) do not see the case.
		wantProblem(t, step(resettlement.Owner{Team: "pvi-resettlement", Staff: "manager-2"}), 422, "owner.staff", "another team's manager")
		wantProblem(t, step(resettlement.Owner{Team: "pvi-resettlement", Staff: "manager-3"}), 422, "owner.staff", "the manager of another team at the prison")
		wantProblem(t, step(resettlement.Owner{Team: "pvi-resettlement", Staff: "gone-1"}), 422, "owner.staff", "someone who has left")
		wantProblem(t, mgr.act(casePath+"/assign", "c1", map[string]any{"owner": resettlement.Owner{Team: "pvi-resettlement", Staff: "officer-2"}}),
			422, "owner.staff", "the case to another prison's officer")

		// Those who see the case may have it: the prison's officers (of any
		// of its teams), the team's manager and head, the prison's teams' queues.
		for _, o := range []resettlement.Owner{{Team: "pvi-resettlement", Staff: "officer-1"}, {Team: "pvi-housing", Staff: "officer-3"},
			{Team: "pvi-resettlement", Staff: "manager-1"}, {Team: "pvi-resettlement", Staff: "head-1"}, {Team: "pvi-housing"}} {
			mgr.want(step(o), 200, "the step to "+o.Team+"/"+o.Staff)
		}

		// The board's bulk reassignment names the item's owner.
		var res api.ReassignResults
		mgr.want(mgr.act("/api/v1/board/reassign", "b1", map[string]any{"items": []api.ReassignItem{
			{CaseID: c.ID, StepID: resettlement.StepGPRegistration, Owner: resettlement.Owner{Team: "pvi-resettlement", Staff: "officer-2"}},
			{CaseID: c.ID, StepID: resettlement.StepBankAccount, Owner: resettlement.Owner{Team: "bxi-resettlement"}},
			{CaseID: c.ID, StepID: resettlement.StepIDDocuments, Owner: resettlement.Owner{Team: "pvi-resettlement", Staff: "officer-1"}},
		}}), 200, "bulk reassign").decode(t, &res)
		if len(res.Results) != 3 {
			t.Fatalf("bulk results %+v", res.Results)
		}
		for i, want := range []struct {
			status int
			field  string
		}{{422, "items[0].owner.staff"}, {422, "items[1].owner.team"}, {200, ""}} {
			r := res.Results[i]
			if r.Status != want.status || want.field != "" && (r.Problem == nil || !hasField(*r.Problem, want.field)) {
				t.Errorf("item %d: %d %+v, want %d naming %q", i, r.Status, r.Problem, want.status, want.field)
			}
		}

		// The owner given when opening a case.
		req := openBody("G2222BB", "1", "PVI", today)
		req["owner"] = "officer-2"
		wantProblem(t, off.do("POST", "/api/v1/cases", req, map[string]string{"Idempotency-Key": "assign-o2"}), 422, "owner", "a case opened for another prison's officer")
		req["owner"] = "officer-3"
		off.want(off.do("POST", "/api/v1/cases", req, map[string]string{"Idempotency-Key": "assign-o3"}), 201, "a case opened for another team's officer at the prison")
	})

	// A person with an open case at a prison the caller cannot see: the
	// 409 says so (the one-open-case rule cannot be kept secret) but names
	// neither the case nor the prison, and the attempt is audited as a
	// probe.
	t.Run("OpenCaseElsewhereIsAProbe", func(t *testing.T) {
		off1, off2 := officer1.in(t), officer2.in(t)
		req := openBody("H1111AA", "1", "BXI", today)
		theirs := openCaseOver(t, off2, req, "probe-o1")

		p := off1.want(off1.do("POST", "/api/v1/cases", openBody("H1111AA", "1", "PVI", today), map[string]string{"Idempotency-Key": "probe-o2"}),
			409, "open a case another prison has").problem(t)
		if p.CaseID != "" || strings.Contains(p.Detail, theirs.ID) || strings.Contains(p.Detail, "BXI") {
			t.Errorf("the refusal names what the caller may not see: %+v", p)
		}
		probes := auditOf(t, d, "case.probe", theirs.ID)
		if len(probes) != 1 || probes[0].Actor != "officer-1" || probes[0].CaseID != theirs.ID {
			t.Fatalf("probes audited: %+v", probes)
		}

		// Within the caller's sight, the refusal names the case to open instead.
		p = off2.want(off2.do("POST", "/api/v1/cases", req, map[string]string{"Idempotency-Key": "probe-o3"}), 409, "open a case again").problem(t)
		if p.CaseID != theirs.ID {
			t.Fatalf("%+v, want 409 naming %s", p, theirs.ID)
		}
		if n := len(auditOf(t, d, "case.probe", theirs.ID)); n != 1 {
			t.Errorf("%d probes after an in-scope refusal, want 1", n)
		}
	})
}

// addPentonvilleHousing adds to the dev stack's demonstration directory
// what the scope rules need besides: a second team at Pentonville
// (pvi-housing) with its officer (officer-3) and manager (manager-3), and
// a Pentonville officer who has left (gone-1).
func addPentonvilleHousing(t *testing.T, d *devstack.Dev) {
	t.Helper()
	ctx := context.Background()
	err := d.DB.InTx(ctx, func(tx *postgres.DB) error {
		if err := tx.PutTeam(ctx, postgres.Team{ID: "pvi-housing", Name: "Pentonville housing", Establishment: "PVI",
			Email: "housing@pvi.example.org", Manager: "manager-3", Active: true}); err != nil {
			return err
		}
		for _, st := range []postgres.Staff{
			{ID: "officer-3", Name: "Ola Officer", Email: "ola.officer@pvi.example.org", Role: "officer", Team: "pvi-housing", Active: true},
			{ID: "manager-3", Name: "Max Manager", Email: "max.manager@pvi.example.org", Role: "manager", Team: "pvi-housing", Active: true},
			{ID: "gone-1", Name: "Gus Gone", Email: "gus.gone@pvi.example.org", Role: "officer", Team: "pvi-resettlement", Active: false},
		} {
			if err := tx.PutStaff(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openCaseOver opens a case over the API with an Idempotency-Key, failing
// the test if it is not created.
func openCaseOver(t *testing.T, c *apiClient, body map[string]any, key string) api.CaseView {
	t.Helper()
	var v api.CaseView
	r := c.do("POST", "/api/v1/cases", body, map[string]string{"Idempotency-Key": key})
	if r.status != 201 {
		t.Fatalf("opening a case (%s): %d %s", key, r.status, trim(r.body))
	}
	r.decode(t, &v)
	return v
}

// wantProblem checks r is a problem document with the status, naming the
// field.
func wantProblem(t testing.TB, r response, status int, field, what string) api.Problem {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d naming %s: %s", what, r.status, status, field, trim(r.body))
		return api.Problem{}
	}
	p := r.problem(t)
	if !hasField(p, field) {
		t.Errorf("%s: the problem does not name %s: %+v", what, field, p)
	}
	return p
}

// auditOf is the audit log's lines of one action on one case, newest first.
func auditOf(t *testing.T, d *devstack.Dev, action, caseID string) []postgres.AuditEntry {
	t.Helper()
	es, err := d.DB.AuditLog(context.Background(), postgres.AuditFilter{Action: action, CaseID: caseID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The filter's action is a prefix.
	return slices.DeleteFunc(es, func(e postgres.AuditEntry) bool { return e.Action != action })
}

// sqlInt runs a query answering one integer (a count) on the dev stack's
// database, for rows no method of the store reads.
func sqlInt(t *testing.T, d *devstack.Dev, sql string, args ...any) int {
	t.Helper()
	url := d.Config.DatabaseURL
	if url == "" {
		url = d.PG.URL("throughgate")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
