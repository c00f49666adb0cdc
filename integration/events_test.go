package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
	"github.com/throughgate/throughgate/workflows"
)

// Prison movement events against the real dev stack: the fixture in
// testdata/events (a sequence for several people covering every reason,
// redeliveries, a transfer before its reception, an unknown prison and
// unknown people) is posted in order, signed, each answer checked against
// the fixture's expectation and the OpenAPI document, then the cases it
// leaves are checked, and the review queue worked by a head of service.

var eventSecret = []byte("integration-secret-of-32-bytes!!")

// fixtureEvent is one delivery of the fixture: the source's event id,
// what the answer must be, and the event, whose {{date:+N}} (today plus N
// days) and {{time:-N[dhm]}} (now less N days, hours or minutes) are
// filled in when it is sent, so the fixture replays on any day.
type fixtureEvent struct {
	name    string
	EventID string `json:"event_id"`
	Expect  struct {
		HTTP   int    `json:"http"`
		Status string `json:"status"`
	} `json:"expect"`
	Event json.RawMessage `json:"event"`
}

var placeholder = regexp.MustCompile(`\{\{(date|time):([+-]\d+)([dhm]?)\}\}`)

func loadEventFixture(t *testing.T, now time.Time) []fixtureEvent {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil || len(files) < 20 {
		t.Fatalf("the fixture: %d files, %v", len(files), err)
	}
	today := resettlement.DateOf(now)
	var out []fixtureEvent
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = placeholder.ReplaceAllFunc(b, func(m []byte) []byte {
			p := placeholder.FindSubmatch(m)
			n, _ := strconv.Atoi(string(p[2]))
			if string(p[1]) == "date" {
				return []byte(today.AddDays(n).String())
			}
			unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[string(p[3])]
			return []byte(now.Add(time.Duration(n) * unit).UTC().Format(time.RFC3339))
		})
		var e fixtureEvent
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, e.Event); err != nil {
			t.Fatal(err)
		}
		e.Event, e.name = compact.Bytes(), filepath.Base(f)
		out = append(out, e)
	}
	return out
}

// sendEvent posts an event signed by source "nomis".
func sendEvent(c *apiClient, eventID string, body []byte, secret []byte, at time.Time) response {
	c.t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	return c.do("POST", "/api/v1/events", body, map[string]string{
		casework.HeaderEventSource: "nomis", casework.HeaderEventID: eventID, casework.HeaderEventTimestamp: ts,
		casework.HeaderEventSignature: casework.SignEvent(secret, ts, eventID, body)})
}

// fakePrisonerSearch answers GET /prisoner/{number} for E5005EE only.
func fakePrisonerSearch(t *testing.T, now time.Time) *httptest.Server {
	today := resettlement.DateOf(now)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer search-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/prisoner/E5005EE" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"prisonerNumber": "E5005EE", "bookingId": "1505", "firstName": "EDDIE",
			"lastName": "EVANS", "dateOfBirth": "1992-03-03", "prisonId": "PVI", "status": "ACTIVE IN",
			"sentenceStartDate": today.AddDays(-40).String(), "conditionalReleaseDate": today.AddDays(200).String(),
			"sentenceExpiryDate": today.AddDays(500).String(), "indeterminateSentence": false})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEvents(t *testing.T) {
	now := time.Now()
	search := fakePrisonerSearch(t, now)
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"),
		"--event-sources", "nomis:"+base64.StdEncoding.EncodeToString(eventSecret),
		"--event-teams", "PVI:pvi-resettlement",
		"--prisoner-search-url", search.URL, "--prisoner-search-token", "search-token"))
	defer d.Stop()
	addPentonvilleHousing(t, d) // two teams at PVI: EVENT_TEAMS chooses
	ctx := context.Background()
	today := resettlement.DateOf(now)
	sender := newClient(t, d.URL)

	t.Run("Refused", func(t *testing.T) {
		c := sender.in(t)
		body := []byte(`{"eventType":"prison-offender-events.prisoner.received","occurredAt":"2026-03-02T09:30:00Z"}`)
		wantProblem(t, sendEvent(c, "bad-1", body, []byte("not the secret, but 32 bytes long"), time.Now()), 401, casework.HeaderEventSignature, "a wrong secret")
		wantProblem(t, sendEvent(c, "bad-2", body, eventSecret, time.Now().Add(-10*time.Minute)), 401, casework.HeaderEventTimestamp, "a replay")
		wantProblem(t, c.do("POST", "/api/v1/events", body, nil), 401, casework.HeaderEventSignature, "unsigned")
		wantProblem(t, sendEvent(c, "bad 3", body, eventSecret, time.Now()), 400, casework.HeaderEventID, "an event id with a space")
		wantProblem(t, sendEvent(c, "bad-4", body, eventSecret, time.Now()), 422, "additionalInformation.nomsNumber", "no prison number")
		if n := sqlInt(t, d, `select count(*) from events`); n != 0 {
			t.Errorf("%d refused events recorded", n)
		}
	})

	// The fixture, in order.
	results := map[string]casework.EventResult{}
	for _, e := range loadEventFixture(t, now) {
		r := sendEvent(sender, e.EventID, e.Event, eventSecret, time.Now())
		if r.status != e.Expect.HTTP {
			t.Fatalf("%s: status %d, want %d: %s", e.name, r.status, e.Expect.HTTP, trim(r.body))
		}
		var res casework.EventResult
		r.decode(t, &res)
		if res.Status != e.Expect.Status || res.Duplicate != (e.Expect.HTTP == 200) {
			t.Fatalf("%s: %s (duplicate %t): %s; want %s", e.name, res.Status, res.Duplicate, res.Outcome, e.Expect.Status)
		}
		t.Logf("%s: %s: %s", e.name, res.Status, res.Outcome)
		results[e.EventID] = res
	}
	if n := sqlInt(t, d, `select count(*) from events`); n != 21 {
		t.Errorf("%d events recorded, want 21 (23 deliveries, two of them redeliveries)", n)
	}

	// caseOf is the person's one case.
	caseOf := func(t *testing.T, prisonNumber string) postgres.CaseRecord {
		t.Helper()
		cases, err := d.DB.PersonCases(ctx, prisonNumber)
		if err != nil || len(cases) != 1 {
			t.Fatalf("%s: %d cases, %v", prisonNumber, len(cases), err)
		}
		st, err := d.Cases.State(ctx, cases[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := d.DB.Case(ctx, cases[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		rec.State = st.Case
		return rec
	}

	t.Run("Cases", func(t *testing.T) {
		// A: opened at PVI for the team EVENT_TEAMS names, moved to BXI,
		// re-planned from the recalculated CRD; court and temporary
		// absences changed nothing.
		a := caseOf(t, "A1001AA")
		if a.Establishment != "BXI" || a.Team != "bxi-resettlement" || a.Person.GivenName != "ALEX" || a.Person.Booking != "1101" ||
			a.State.Dates.CRD != today.AddDays(120) || a.State.ReceivedOn != today.AddDays(-30) || a.State.SentenceDate != today.AddDays(-40) {
			t.Errorf("A: %s/%s %+v received %s dates %+v", a.Establishment, a.Team, a.Person, a.State.ReceivedOn, a.State.Dates)
		}
		if results["nomis-a-001"].CaseID != a.ID || !strings.Contains(results["nomis-a-001"].Outcome, "for team pvi-resettlement") {
			t.Errorf("A's admission: %+v", results["nomis-a-001"])
		}
		kinds := map[string]int{}
		for _, e := range a.State.Events {
			kinds[e.Kind]++
			if e.Kind == "transfer" && e.By != "events-nomis" {
				t.Errorf("the transfer is by %q", e.By)
			}
		}
		if kinds["transfer"] != 1 || kinds["release-dates"] != 1 {
			t.Errorf("A's history: %v", kinds)
		}
		if n := len(auditOf(t, d, "case.open", a.ID)); n != 1 {
			t.Errorf("A: %d case.open audit lines", n)
		} else if e := auditOf(t, d, "case.open", a.ID)[0]; e.Actor != "events:nomis" {
			t.Errorf("A was opened by %q in the audit log", e.Actor)
		}

		// B: the transfer came first and was held; the reception opened
		// the case at PVI, then the held transfer moved it to BXI.
		b := caseOf(t, "B2002BB")
		if b.Establishment != "BXI" || b.Team != "bxi-resettlement" {
			t.Errorf("B is at %s/%s", b.Establishment, b.Team)
		}
		held, err := d.DB.Event(ctx, results["nomis-b-002"].ID)
		if err != nil || held.Status != postgres.EventApplied || held.CaseID != b.ID {
			t.Errorf("B's held transfer: %+v %v", held, err)
		}

		// C: opened with no release date (its release-day steps on hold),
		// released, then recalled to BXI: the same case reset and moved.
		c := caseOf(t, "C3003CC")
		if !strings.Contains(results["nomis-c-001"].Outcome, "on hold") {
			t.Errorf("C's admission: %q", results["nomis-c-001"].Outcome)
		}
		if c.State.Cycle != 1 || c.State.Released() || c.Establishment != "BXI" || c.State.Dates.PRRD != today.AddDays(120) {
			t.Errorf("C: cycle %d released %t at %s dates %+v", c.State.Cycle, c.State.Released(), c.Establishment, c.State.Dates)
		}
		if !strings.Contains(results["nomis-c-003"].Outcome, "reset case "+c.ID+" for a recall and moved it from PVI to BXI") {
			t.Errorf("C's readmission: %q", results["nomis-c-003"].Outcome)
		}

		// E: the person's record from the prisoner search; released early,
		// so today became the confirmed date and the release is recorded.
		e := caseOf(t, "E5005EE")
		if e.Person.GivenName != "EDDIE" || e.Person.Booking != "1505" || !e.State.Released() || e.State.Dates.Confirmed != today {
			t.Errorf("E: %+v released %t dates %+v", e.Person, e.State.Released(), e.State.Dates)
		}
		if e.State.Stage(time.Now()) != resettlement.StageFollowUp {
			t.Errorf("E is at stage %s", e.State.Stage(time.Now()))
		}

		// F: a readmission with no earlier case opens one.
		f := caseOf(t, "F6006FF")
		if f.Establishment != "BXI" || !strings.HasPrefix(results["nomis-f-001"].Outcome, "readmission: opened case") {
			t.Errorf("F at %s: %q", f.Establishment, results["nomis-f-001"].Outcome)
		}

		// Nobody else has a case.
		for _, pn := range []string{"D4004DD", "G7007GG", "H8008HH", "X9009XX"} {
			if n := sqlInt(t, d, `select count(*) from cases where prison_number = $1`, pn); n != 0 {
				t.Errorf("%s has %d cases", pn, n)
			}
		}
	})

	// The review queue: the head of service sees the unknown prison's and
	// the unknown people's events, BXI's manager only BXI's; once LEI has
	// a team, applying D's admission opens the case there; G is dismissed.
	t.Run("Review", func(t *testing.T) {
		head := signIn(t, d, "head-1")
		manager2 := signIn(t, d, "manager-2")
		officer1 := signIn(t, d, "officer-1")
		var rev casework.EventReview
		head.want(head.do("GET", "/api/v1/events/review", nil, nil), 200, "head's queue").decode(t, &rev)
		var names []string
		for _, it := range rev.Items {
			names = append(names, it.EventID)
		}
		if strings.Join(names, ",") != "nomis-d-001,nomis-g-001,nomis-h-001" {
			t.Errorf("the head's queue: %v", names)
		}
		if rev.Items[0].GivenName != "DANA" {
			t.Errorf("the name the event carries is not shown: %+v", rev.Items[0])
		}
		manager2.want(manager2.do("GET", "/api/v1/events/review?status=parked", nil, nil), 200, "manager's queue").decode(t, &rev)
		if len(rev.Items) != 1 || rev.Items[0].EventID != "nomis-h-001" {
			t.Errorf("BXI's manager's queue: %+v", rev.Items)
		}
		officer1.want(officer1.do("GET", "/api/v1/events/review", nil, nil), 403, "an officer's queue")
		head.want(head.do("GET", "/api/v1/events/review?status=applied", nil, nil), 422, "a bad filter")

		dID := results["nomis-d-001"].ID
		path := fmt.Sprintf("/api/v1/events/%d", dID)
		manager2.want(manager2.do("POST", path+"/apply", nil, nil), 404, "another prison's event")
		var res casework.EventResult
		head.want(head.do("POST", path+"/apply", nil, nil), 200, "apply with LEI still unknown").decode(t, &res)
		if res.Status != postgres.EventParked || res.DecidedBy != "head-1" {
			t.Errorf("applied before the fix: %+v", res)
		}
		if err := d.DB.PutTeam(ctx, postgres.Team{ID: "lei-resettlement", Name: "Lewes resettlement", Establishment: "LEI",
			Email: "resettlement@lei.example.org", Head: "head-1", Active: true}); err != nil {
			t.Fatal(err)
		}
		head.want(head.do("POST", path+"/apply", map[string]string{"team": "pvi-resettlement"}, nil), 422, "a team elsewhere")
		head.want(head.do("POST", path+"/apply", map[string]string{"team": "lei-resettlement"}, nil), 200, "apply after the fix").decode(t, &res)
		if res.Status != postgres.EventApplied || res.CaseID == "" {
			t.Fatalf("applied after the fix: %+v", res)
		}
		if dc := caseOf(t, "D4004DD"); dc.Establishment != "LEI" || dc.Team != "lei-resettlement" || dc.ID != res.CaseID {
			t.Errorf("D: %s at %s/%s", dc.ID, dc.Establishment, dc.Team)
		}
		head.want(head.do("POST", path+"/apply", nil, nil), 409, "applied twice")
		head.want(head.do("POST", path+"/dismiss", nil, nil), 409, "dismissing an applied event")

		gPath := fmt.Sprintf("/api/v1/events/%d", results["nomis-g-001"].ID)
		head.want(head.do("POST", gPath+"/dismiss", nil, nil), 200, "dismiss").decode(t, &res)
		if res.Status != postgres.EventDismissed {
			t.Errorf("dismissed: %+v", res)
		}
		head.want(head.do("POST", gPath+"/dismiss", nil, nil), 200, "dismiss again")
		head.want(head.do("POST", "/api/v1/events/999999/apply", nil, nil), 404, "no such event")
		for _, action := range []string{"event.apply", "event.dismiss", "event.review"} {
			if n := sqlInt(t, d, `select count(*) from audit where actor = 'head-1' and action = $1`, action); n == 0 {
				t.Errorf("no %s in the audit log", action)
			}
		}
	})

	// What Temporal holds is ids and dates: no event body, name, prison
	// number or date of birth reached a case's history, the audit log or
	// the case events.
	t.Run("NoPersonalDataOutsidePostgres", func(t *testing.T) {
		for pn, pii := range map[string][]string{"A1001AA": {"ALEX", "ARCHER", "1985-04-02", "prison-offender-events"},
			"C3003CC": {"CHRIS", "CARTER", "1979-01-15", "READMISSION"}, "E5005EE": {"EDDIE", "EVANS", "1992-03-03"}} {
			c := caseOf(t, pn)
			text := historyText(t, d, c.ID)
			if !strings.Contains(text, c.ID) {
				t.Fatalf("%s: the opened history does not name the case", pn)
			}
			for _, f := range append(pii, pn) {
				if strings.Contains(text, f) {
					t.Errorf("the history of %s's case holds %q", pn, f)
				}
			}
		}
		if n := sqlInt(t, d, `select count(*) from audit where detail ~ '[A-Z][0-9]{4}[A-Z]{2}' or detail ~* 'archer|baker|carter'`); n != 0 {
			t.Errorf("%d audit lines name a person", n)
		}
		if n := sqlInt(t, d, `select count(*) from case_events where text ~ '[A-Z][0-9]{4}[A-Z]{2}' or text ~* 'archer|baker|carter'`); n != 0 {
			t.Errorf("%d case events name a person", n)
		}
	})
}

// historyText is a case's whole history in Temporal with every payload
// opened by the payload codec.
func historyText(t *testing.T, d *devstack.Dev, caseID string) string {
	t.Helper()
	ctx := context.Background()
	var h historypb.History
	iter := d.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(caseID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	var plain bytes.Buffer
	err := proxy.VisitPayloads(ctx, &h, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			out, err := d.Codec.Decode(ps)
			for _, p := range out {
				plain.Write(p.GetData())
				plain.WriteByte('\n')
			}
			return ps, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return plain.String()
}
