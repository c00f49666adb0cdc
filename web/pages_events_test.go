package web

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// The review queue of movement events renders with a labelled team choice
// per event where several teams work, and apply and dismiss forms.
func TestEventsPageRenders(t *testing.T) {
	a := &site{Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	page := eventsPage{Items: []eventRow{
		{ID: 12, Name: "SAM EXAMPLE", PrisonNumber: "A1234BC", What: eventWhat("prison-offender-events.prisoner.received", "NEW_ADMISSION"),
			Occurred: "2 Mar 2026, 09:30", Received: "2 Mar 2026, 09:31", Source: "nomis", Establishment: "PVI", Status: "parked",
			Outcome: "2 active teams work at PVI and EVENT_TEAMS names none of them: choose the team when applying",
			Teams:   []option{{Value: "pvi-resettlement", Label: "Pentonville resettlement"}, {Value: "pvi-housing", Label: "Pentonville housing"}}},
		{ID: 13, PrisonNumber: "B2345CD", CaseID: "k3m9x2p7qa", What: eventWhat("prison-offender-events.prisoner.received", "TRANSFERRED"),
			Source: "nomis", Establishment: "BXI", Status: "held", Outcome: "no open case for the person yet"},
	}}
	html := renderPage(t, a, "events", pageData{Title: "Movement events to review", Section: "events", Data: page})
	checkPage(t, "events", html)
	for _, want := range []string{"Received (new admission)", `action="/board/events/12/apply"`, `action="/board/events/13/dismiss"`,
		`for="team-12"`, `href="/cases/k3m9x2p7qa"`, "EVENT_TEAMS names none"} {
		if !strings.Contains(html, want) {
			t.Errorf("no %q", want)
		}
	}
	if strings.Contains(html, `id="team-13"`) {
		t.Error("a team choice where one team works")
	}
	empty := renderPage(t, a, "events", pageData{Title: "Movement events to review", Data: eventsPage{}})
	checkPage(t, "events", empty)
	if !strings.Contains(empty, "Nothing to review") {
		t.Error("the empty queue says nothing")
	}
}
