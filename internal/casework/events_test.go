package casework

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes

func TestVerifyDelivery(t *testing.T) {
	sources := []EventSource{{Name: "nomis", Secret: testSecret}, {Name: "other", Secret: []byte("another secret of thirty-two b..")}}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ts := fmt.Sprint(now.Unix())
	body := []byte(`{"eventType":"x"}`)
	good := SignedDelivery{Source: "nomis", EventID: "ev-1", Timestamp: ts, Signature: SignEvent(testSecret, ts, "ev-1", body), Body: body}
	with := func(f func(d *SignedDelivery)) SignedDelivery { d := good; f(&d); return d }
	for _, c := range []struct {
		name  string
		d     SignedDelivery
		kind  Kind   // 0: accepted
		field string // named by the refusal
	}{
		{"signed", good, 0, ""},
		{"upper-case hex", with(func(d *SignedDelivery) {
			d.Signature = "sha256=" + strings.ToUpper(strings.TrimPrefix(d.Signature, "sha256="))
		}), 0, ""},
		{"4 minutes late", with(func(d *SignedDelivery) {
			d.Timestamp = fmt.Sprint(now.Add(-4 * time.Minute).Unix())
			d.Signature = SignEvent(testSecret, d.Timestamp, d.EventID, body)
		}), 0, ""},
		{"another source's secret", with(func(d *SignedDelivery) { d.Signature = SignEvent(sources[1].Secret, ts, "ev-1", body) }), Unauthenticated, HeaderEventSignature},
		{"unknown source", with(func(d *SignedDelivery) { d.Source = "nobody" }), Unauthenticated, HeaderEventSignature},
		{"body changed", with(func(d *SignedDelivery) { d.Body = []byte(`{"eventType":"y"}`) }), Unauthenticated, HeaderEventSignature},
		{"event id changed (a replay as a new event)", with(func(d *SignedDelivery) { d.EventID = "ev-2" }), Unauthenticated, HeaderEventSignature},
		{"timestamp changed", with(func(d *SignedDelivery) { d.Timestamp = fmt.Sprint(now.Unix() + 1) }), Unauthenticated, HeaderEventSignature},
		{"no sha256= prefix", with(func(d *SignedDelivery) { d.Signature = strings.TrimPrefix(d.Signature, "sha256=") }), Unauthenticated, HeaderEventSignature},
		{"no signature", with(func(d *SignedDelivery) { d.Signature = "" }), Unauthenticated, HeaderEventSignature},
		{"no source", with(func(d *SignedDelivery) { d.Source = "" }), Unauthenticated, HeaderEventSource},
		{"no timestamp", with(func(d *SignedDelivery) { d.Timestamp = "" }), Unauthenticated, HeaderEventTimestamp},
		{"6 minutes old (a replay)", with(func(d *SignedDelivery) {
			d.Timestamp = fmt.Sprint(now.Add(-6 * time.Minute).Unix())
			d.Signature = SignEvent(testSecret, d.Timestamp, d.EventID, body)
		}), Unauthenticated, HeaderEventTimestamp},
		{"6 minutes ahead", with(func(d *SignedDelivery) {
			d.Timestamp = fmt.Sprint(now.Add(6 * time.Minute).Unix())
			d.Signature = SignEvent(testSecret, d.Timestamp, d.EventID, body)
		}), Unauthenticated, HeaderEventTimestamp},
		{"timestamp not a number", with(func(d *SignedDelivery) {
			d.Timestamp = "2026-03-02T10:00:00Z"
			d.Signature = SignEvent(testSecret, d.Timestamp, d.EventID, body)
		}), Unauthenticated, HeaderEventTimestamp},
		{"no event id", with(func(d *SignedDelivery) {
			d.EventID = ""
			d.Signature = SignEvent(testSecret, ts, "", body)
		}), Malformed, HeaderEventID},
		{"event id with a space", with(func(d *SignedDelivery) {
			d.EventID = "ev 1"
			d.Signature = SignEvent(testSecret, ts, d.EventID, body)
		}), Malformed, HeaderEventID},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, err := VerifyDelivery(sources, c.d, now)
			if c.kind == 0 {
				if err != nil || src != "nomis" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantFieldError(t, err, c.kind, c.field)
		})
	}
	if _, err := VerifyDelivery(nil, good, now); err == nil {
		t.Error("accepted with no source configured")
	}
}

// TestSignEventIsDocumented pins the signature to the README's worked
// example, so a sender built from the README agrees with the server.
func TestSignEventIsDocumented(t *testing.T) {
	got := SignEvent([]byte("0123456789abcdef0123456789abcdef"), "1767225600", "ev-1", []byte(`{"eventType":"x"}`))
	if !strings.HasPrefix(got, "sha256=") || len(got) != len("sha256=")+64 {
		t.Fatalf("signature %q", got)
	}
	// openssl's answer: printf '1767225600.ev-1.{"eventType":"x"}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
	if want := "sha256=" + readmeSignature; got != want {
		t.Errorf("signature %s, want %s (README.md, Prison movement events)", got, want)
	}
}

const readmeSignature = "7bb3fecccd71b8edacc9312e7a57cf8df9ccf40acb84c9fe56727178a9f8b8d1"

func received(reason, prison string) string {
	return fmt.Sprintf(`{"eventType":"%s","version":1,"description":"A prisoner has been received into a prison","occurredAt":"2026-03-02T09:30:00Z",
		"additionalInformation":{"nomsNumber":"A1234BC","reason":"%s","prisonId":"%s","details":"ACTIVE IN"},
		"personReference":{"identifiers":[{"type":"NOMS","value":"A1234BC"}]}}`, EventReceived, reason, prison)
}

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(received("NEW_ADMISSION", "PVI")))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventReceived || ev.Reason != "NEW_ADMISSION" || ev.PrisonNumber != "A1234BC" || ev.Prison != "PVI" ||
		!ev.OccurredAt.Equal(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)) || ev.Prisoner != nil {
		t.Errorf("read %+v", ev)
	}

	withPrisoner := `{"eventType":"prison-offender-events.prisoner.received","occurredAt":"2026-03-02T09:30:00.123+00:00",
		"additionalInformation":{"reason":"NEW_ADMISSION","prisonId":"BXI","prisoner":{"prisonerNumber":"A1234BC","bookingId":1203,
		"firstName":"SAM","lastName":"EXAMPLE","dateOfBirth":"1990-05-17","conditionalReleaseDate":"2026-09-01","sentenceStartDate":"2026-01-10",
		"indeterminateSentence":false}},
		"personReference":{"identifiers":[{"type":"NOMS","value":"A1234BC"}]}}`
	ev, err = ParseEvent([]byte(withPrisoner))
	if err != nil {
		t.Fatal(err)
	}
	if ev.PrisonNumber != "A1234BC" || ev.Prisoner == nil || ev.Prisoner.BookingID != "1203" || ev.Prisoner.FirstName != "SAM" ||
		ev.Prisoner.Dates().CRD != resettlement.D(2026, 9, 1) || ev.Prisoner.SentenceStartDate != resettlement.D(2026, 1, 10) {
		t.Errorf("read %+v %+v", ev, ev.Prisoner)
	}

	local, err := ParseEvent([]byte(`{"eventType":"prison-offender-events.prisoner.released","occurredAt":"2026-07-01T09:30:00",
		"additionalInformation":{"nomsNumber":"A1234BC","reason":"RELEASED","prisonId":"PVI"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC); !local.OccurredAt.Equal(want) {
		t.Errorf("a local time in summer is London's: %s, want %s", local.OccurredAt, want)
	}
	if _, err := ParseEvent([]byte(`{"eventType":"some.other.event","occurredAt":"2026-03-02T09:30:00Z"}`)); err != nil {
		t.Errorf("an event of another type needs only its type and time: %v", err)
	}

	for _, c := range []struct {
		name, body string
		kind       Kind
		field      string
	}{
		{"not JSON", `{"eventType":`, Malformed, "body"},
		{"two objects", received("NEW_ADMISSION", "PVI") + `{}`, Malformed, "body"},
		{"a NUL", strings.Replace(received("NEW_ADMISSION", "PVI"), "ACTIVE IN", `ACTIVE\u0000IN`, 1), Malformed, "body"},
		{"no type", `{"occurredAt":"2026-03-02T09:30:00Z"}`, Invalid, "eventType"},
		{"no time", strings.Replace(received("NEW_ADMISSION", "PVI"), `"occurredAt":"2026-03-02T09:30:00Z",`, "", 1), Invalid, "occurredAt"},
		{"a date, not a time", strings.Replace(received("NEW_ADMISSION", "PVI"), `2026-03-02T09:30:00Z`, "2026-03-02", 1), Invalid, "occurredAt"},
		{"no prison number", strings.ReplaceAll(received("NEW_ADMISSION", "PVI"), "A1234BC", ""), Invalid, "additionalInformation.nomsNumber"},
		{"a malformed prison number", strings.ReplaceAll(received("NEW_ADMISSION", "PVI"), "A1234BC", "12345"), Invalid, "additionalInformation.nomsNumber"},
		{"no prison", received("NEW_ADMISSION", ""), Invalid, "additionalInformation.prisonId"},
		{"a prison that is no code", received("NEW_ADMISSION", "Pentonville"), Invalid, "additionalInformation.prisonId"},
		{"a record of someone else", strings.Replace(withPrisoner, `"prisonerNumber":"A1234BC"`, `"prisonerNumber":"Z9999ZZ"`, 1), Invalid, "additionalInformation.prisoner.prisonerNumber"},
		{"a reason with a newline", received(`NEW\nADMISSION`, "PVI"), Invalid, "additionalInformation.reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(c.body))
			wantFieldError(t, err, c.kind, c.field)
		})
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		typ, reason string
		categories  []string
		want        Movement
	}{
		{EventReceived, "NEW_ADMISSION", nil, MoveOpen},
		{EventReceived, "READMISSION", nil, MoveReadmit},
		{EventReceived, "TRANSFERRED", nil, MoveTransfer},
		{EventReceived, "RETURN_FROM_COURT", nil, MoveNone},
		{EventReceived, "TEMPORARY_ABSENCE_RETURN", nil, MoveNone},
		{EventReceived, "READMISSION_SWITCH_BOOKING", nil, MoveNone},
		{EventReceived, "POST_MERGE_ADMISSION", nil, MoveNone},
		{EventReceived, "", nil, MoveNone},
		{EventReleased, "RELEASED", nil, MoveRelease},
		{EventReleased, "TRANSFERRED", nil, MoveNone},
		{EventReleased, "SENT_TO_COURT", nil, MoveNone},
		{EventReleased, "TEMPORARY_ABSENCE_RELEASE", nil, MoveNone},
		{EventReleased, "RELEASED_TO_HOSPITAL", nil, MoveNone},
		{EventUpdated, "", []string{"PERSONAL_DETAILS", "SENTENCE"}, MoveDates},
		{EventUpdated, "", []string{"LOCATION"}, MoveNone},
		{EventUpdated, "", nil, MoveNone},
		{"prison-offender-events.prisoner.merged", "MERGE", nil, MoveNone},
	} {
		got, why := Classify(c.typ, c.reason, c.categories)
		if got != c.want || why == "" {
			t.Errorf("%s %s %v: %s (%q), want %s", c.typ, c.reason, c.categories, got, why, c.want)
		}
	}
}

// eventFixture is the fixture's service taking events from one source.
func eventFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.s.Events = EventSettings{Sources: []EventSource{{Name: "nomis", Secret: testSecret}}}
	return f
}

// deliver signs and delivers one event.
func (f *fixture) deliver(id, body string) (EventResult, error) {
	f.t.Helper()
	ts := fmt.Sprint(testNow.Unix())
	return f.s.ReceiveEvent(f.ctx, SignedDelivery{Source: "nomis", EventID: id, Timestamp: ts,
		Signature: SignEvent(testSecret, ts, id, []byte(body)), Body: []byte(body)})
}

func (f *fixture) wantEvent(id, body, status string, duplicate bool) EventResult {
	f.t.Helper()
	res, err := f.deliver(id, body)
	if err != nil {
		f.t.Fatalf("event %s: %v", id, err)
	}
	if res.Status != status || res.Duplicate != duplicate || res.Outcome == "" {
		f.t.Fatalf("event %s: %s (duplicate %t) %q, want %s (duplicate %t)", id, res.Status, res.Duplicate, res.Outcome, status, duplicate)
	}
	return res
}

// TestEventsWithoutTheEngine delivers the events whose outcome needs no
// case workflow (those that do are in ./integration, TestEvents): each is
// recorded before it is acted on, once per id; a transfer before any case
// is held, then parked by the sweep after EVENT_HOLD; an unknown prison is
// parked for the heads; the review queue is scoped, and its apply and
// dismiss audited.
func TestEventsWithoutTheEngine(t *testing.T) {
	f := eventFixture(t)
	p := f.s.DB

	transfer := received("TRANSFERRED", "BXI")
	held := f.wantEvent("ev-transfer", transfer, postgres.EventHeld, false)
	if again := f.wantEvent("ev-transfer", transfer, postgres.EventHeld, true); again.ID != held.ID || again.Outcome != held.Outcome {
		t.Errorf("a redelivery answered %+v, not the first outcome %+v", again, held)
	}
	if _, err := f.deliver("ev-transfer", received("TRANSFERRED", "PVI")); err == nil {
		t.Error("the same id with another event was accepted")
	} else {
		wantFieldError(t, err, Conflict, HeaderEventID)
	}
	if n := pgtest.Int(t, p, `select count(*) from events where event_id = 'ev-transfer'`); n != 1 {
		t.Errorf("%d rows for one event", n)
	}
	if n := pgtest.Int(t, p, `select count(*) from events where event_id = 'ev-transfer' and body->'additionalInformation'->>'nomsNumber' = 'A1234BC'`); n != 1 {
		t.Error("the body is not recorded as sent")
	}

	f.wantEvent("ev-court", received("RETURN_FROM_COURT", "PVI"), postgres.EventIgnored, false)
	unknown := f.wantEvent("ev-lei", strings.Replace(received("NEW_ADMISSION", "LEI"), "A1234BC", "B2345CD", 2), postgres.EventParked, false)
	if !strings.Contains(unknown.Outcome, "no active team works at LEI") {
		t.Errorf("parked saying %q", unknown.Outcome)
	}
	f.wantEvent("ev-dates", strings.Replace(strings.Replace(received("", ""), EventReceived, EventUpdated, 1),
		`"details"`, `"categoriesChanged":["SENTENCE"],"details"`, 1), postgres.EventIgnored, false)
	f.wantEvent("ev-other", `{"eventType":"prison-offender-events.prisoner.merged","occurredAt":"2026-03-02T09:30:00Z"}`, postgres.EventIgnored, false)

	// A person with an open case at PVI that records no release.
	f.readModelCase("c1aaaaaaaa", openReq("C3456DE"))
	forC := func(s string) string { return strings.ReplaceAll(s, "A1234BC", "C3456DE") }
	f.wantEvent("ev-c-there", forC(received("TRANSFERRED", "PVI")), postgres.EventIgnored, false)
	readmit := f.wantEvent("ev-c-readmit", forC(received("READMISSION", "PVI")), postgres.EventParked, false)
	if readmit.CaseID != "c1aaaaaaaa" || !strings.Contains(readmit.Outcome, "records no release") {
		t.Errorf("readmission over an unreleased case: %+v", readmit)
	}
	if n := pgtest.Int(t, p, `select count(*) from audit where actor = 'events:nomis' and action = 'event.received'`); n != 7 {
		t.Errorf("%d event.received audit lines by events:nomis, want 7", n)
	}

	// The review queue: PVI's manager sees PVI's, Brixton's its held
	// transfer, the head both and the unknown prison's; officers none.
	review := func(who string) []int64 {
		t.Helper()
		rev, err := f.s.ReviewEvents(f.ctx, f.as(who), "")
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		var ids []int64
		for _, it := range rev.Items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	if got := review("manager-1"); fmt.Sprint(got) != fmt.Sprint([]int64{readmit.ID}) {
		t.Errorf("manager-1 sees %v", got)
	}
	if got := review("manager-2"); fmt.Sprint(got) != fmt.Sprint([]int64{held.ID}) {
		t.Errorf("manager-2 sees %v", got)
	}
	if got := review("head-1"); fmt.Sprint(got) != fmt.Sprint([]int64{held.ID, unknown.ID, readmit.ID}) {
		t.Errorf("head-1 sees %v", got)
	}
	if _, err := f.s.ReviewEvents(f.ctx, f.as("officer-1"), ""); err == nil {
		t.Error("an officer saw the review queue")
	}
	if _, err := f.s.ReviewEvents(f.ctx, f.as("head-1"), "ignored"); err == nil {
		t.Error("the queue took status=ignored")
	}
	if _, err := f.s.ApplyEvent(f.ctx, f.as("manager-1"), unknown.ID, ""); err == nil {
		t.Error("manager-1 applied an event at an unknown prison, outside their scope")
	} else {
		wantKind(t, err, NotFound)
	}

	// Applying the unknown prison's event again parks it again, saying why;
	// dismissing it takes it off the queue, once.
	res, err := f.s.ApplyEvent(f.ctx, f.as("head-1"), unknown.ID, "")
	if err != nil || res.Status != postgres.EventParked || res.DecidedBy != "head-1" {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if _, err := f.s.ApplyEvent(f.ctx, f.as("head-1"), unknown.ID, "pvi-resettlement"); err == nil {
		t.Error("applied with a team that is not at LEI")
	} else {
		wantFieldError(t, err, Invalid, "team")
	}
	if res, err = f.s.DismissEvent(f.ctx, f.as("head-1"), unknown.ID); err != nil || res.Status != postgres.EventDismissed {
		t.Fatalf("dismiss: %+v %v", res, err)
	}
	if res, err = f.s.DismissEvent(f.ctx, f.as("head-1"), unknown.ID); err != nil || res.Status != postgres.EventDismissed {
		t.Fatalf("dismissing again: %+v %v", res, err)
	}
	if _, err := f.s.ApplyEvent(f.ctx, f.as("head-1"), unknown.ID, ""); err == nil {
		t.Error("applied a dismissed event")
	} else {
		wantKind(t, err, Conflict)
	}
	if f.wantEvent("ev-lei", strings.Replace(received("NEW_ADMISSION", "LEI"), "A1234BC", "B2345CD", 2), postgres.EventDismissed, true).ID != unknown.ID {
		t.Error("a redelivery of a dismissed event was not answered with it")
	}
	for _, action := range []string{"event.apply", "event.dismiss", "event.review"} {
		if n := pgtest.Int(t, p, `select count(*) from audit where actor = 'head-1' and action = $1`, action); n == 0 {
			t.Errorf("no %s audit line", action)
		}
	}

	// The sweep: within EVENT_HOLD the held transfer waits; after, it is parked.
	if n, err := f.s.SweepEvents(f.ctx); err != nil || n != 0 {
		t.Errorf("sweep within the hold: %d changed, %v", n, err)
	}
	f.s.Now = func() time.Time { return testNow.Add(DefaultEventHold + time.Minute) }
	if n, err := f.s.SweepEvents(f.ctx); err != nil || n != 1 {
		t.Errorf("sweep after the hold: %d changed, %v", n, err)
	}
	after, err := p.Event(f.ctx, held.ID)
	if err != nil || after.Status != postgres.EventParked || !strings.Contains(after.Outcome, "waited 24h0m0s") {
		t.Errorf("after the hold: %+v %v", after, err)
	}

	// Nothing the audit log says of events names the person.
	if n := pgtest.Int(t, p, `select count(*) from audit where detail like '%A1234BC%' or detail like '%C3456DE%' or detail like '%B2345CD%'`); n != 0 {
		t.Errorf("%d audit lines name a prison number", n)
	}
}

// The review queue shows the name an event carries, for the managers who
// must find the person.
func TestReviewItemName(t *testing.T) {
	body := `{"eventType":"prison-offender-events.prisoner.received","occurredAt":"2026-03-02T09:30:00Z",
		"additionalInformation":{"nomsNumber":"A1234BC","reason":"NEW_ADMISSION","prisonId":"LEI","prisoner":{"firstName":"SAM","lastName":"EXAMPLE"}}}`
	it := reviewItem(postgres.EventRecord{Body: []byte(body)})
	if it.GivenName != "SAM" || it.FamilyName != "EXAMPLE" {
		t.Errorf("%+v", it)
	}
	b, _ := json.Marshal(it)
	if strings.Contains(string(b), "additionalInformation") {
		t.Error("the body is in the item's JSON")
	}
}

// wantKind checks err is a casework Error of a kind.
func wantKind(t *testing.T, err error, kind Kind) {
	t.Helper()
	if e, ok := ErrorOf(err); !ok || e.Kind != kind {
		t.Fatalf("want a %d, got %v", statuses[kind], err)
	}
}

// The prisoner search client: the record at /prisoner/{number} with the
// bearer token, nil for 404, an error for anything else.
func TestHTTPPrisonerSearch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer t0ken":
			http.Error(w, "no", http.StatusUnauthorized)
		case r.URL.Path == "/search/prisoner/A1234BC":
			_, _ = w.Write([]byte(`{"prisonerNumber":"A1234BC","bookingId":"77","firstName":"SAM","lastName":"EXAMPLE",
				"dateOfBirth":"1990-05-17","conditionalReleaseDate":"2026-09-01","homeDetentionCurfewEligibilityDate":null,"alerts":[]}`))
		case r.URL.Path == "/search/prisoner/B2345CD":
			_, _ = w.Write([]byte(`{"prisonerNumber":"Z9999ZZ"}`))
		case r.URL.Path == "/search/prisoner/C3456DE":
			http.Error(w, "down", http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s := &HTTPPrisonerSearch{URL: srv.URL + "/search/", Token: "t0ken"}
	ctx := context.Background()
	p, err := s.Prisoner(ctx, "A1234BC")
	if err != nil || p == nil || p.BookingID != "77" || p.LastName != "EXAMPLE" || p.Dates().CRD != resettlement.D(2026, 9, 1) {
		t.Fatalf("record %+v %v", p, err)
	}
	if p, err := s.Prisoner(ctx, "D4567EF"); p != nil || err != nil {
		t.Errorf("unknown person: %+v %v", p, err)
	}
	for _, pn := range []string{"B2345CD", "C3456DE"} {
		if _, err := s.Prisoner(ctx, pn); err == nil {
			t.Errorf("%s: no error", pn)
		}
	}
	if _, err := (&HTTPPrisonerSearch{URL: srv.URL + "/search"}).Prisoner(ctx, "A1234BC"); err == nil {
		t.Error("no error without the token")
	}
}
