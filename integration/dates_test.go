package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// TestReleaseDateChanges changes a case's release dates over HTTP against
// the real dev stack: the case's workflow refuses contradictory dates, and
// works out again whether the person is an adult at release. Dates are
// counted from today, as the server's clock is the real one.
func TestReleaseDateChanges(t *testing.T) {
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data")))
	defer d.Stop()
	ctx := context.Background()
	today := resettlement.DateOf(time.Now())
	officer1 := signIn(t, d, "officer-1")

	// A change of dates that contradicts itself, or puts the release
	// before the reception, is refused with a 422 naming the date at
	// fault, and the case is as it was.
	t.Run("ContradictoryDatesRefused", func(t *testing.T) {
		off := officer1.in(t)
		v := openCaseOver(t, off, openBody("A1111AA", "1", "PVI", today), "contradictory-o1") // received 10 days ago
		casePath := "/api/v1/cases/" + v.ID
		waitFor(t, "the case's first projection", 20*time.Second, func() bool {
			rec, err := d.DB.Case(ctx, v.ID)
			return err == nil && rec.State != nil
		})
		before, err := d.DB.Case(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		day := func(n int) string { return today.AddDays(n).String() }
		for _, c := range []struct {
			name, route string
			body        map[string]any
			field       string
		}{
			{"HDCAD after CRD", "/release-dates", map[string]any{"release_dates": map[string]string{"crd": day(121), "hdcad": day(135)}, "reason": "hdc-decision"}, "release_dates.hdcad"},
			{"CRD after SED", "/release-dates", map[string]any{"release_dates": map[string]string{"crd": day(121), "sed": day(91)}, "reason": "recalculation"}, "release_dates.crd"},
			{"target before reception", "/release-dates", map[string]any{"release_dates": map[string]string{"crd": day(-20)}, "reason": "correction"}, "release_dates"},
			{"sentence date in the future", "/release-dates", map[string]any{"release_dates": map[string]string{"crd": day(121)}, "sentence_date": day(1), "reason": "correction"}, "sentence_date"},
			{"reset: PED after CRD", "/reset", map[string]any{"reason": "new-sentence", "received_on": day(-1),
				"release_dates": map[string]string{"crd": day(183), "ped": day(213)}}, "release_dates.ped"},
			{"reset: target before its reception", "/reset", map[string]any{"reason": "recall", "received_on": day(-1),
				"release_dates": map[string]string{"prrd": day(-10)}}, "release_dates"},
		} {
			wantProblem(t, off.act(casePath+c.route, "k-"+strings.ReplaceAll(c.name, " ", "-"), c.body), 422, c.field, c.name)
		}
		after, err := d.DB.Case(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version || after.State.Dates != before.State.Dates || after.State.Cycle != before.State.Cycle {
			t.Errorf("refused changes changed the case: version %d → %d, dates %+v → %+v", before.Version, after.Version, before.State.Dates, after.State.Dates)
		}
	})

	// Whether the person is an adult at release is worked out from the
	// date of birth on every change of dates, and the sentence date travels
	// from the request to the case and the read model.
	t.Run("AdultAndSentenceDateFollowTheDates", func(t *testing.T) {
		off := officer1.in(t)
		// Fridays on which a child is released and an adult leaves the
		// Thursday before (both working days): one before the person's
		// 18th birthday, two after it.
		childFriday := fridayAfterThursday(today.AddDays(35))
		birthday := childFriday.AddDays(14)
		if birthday.Month == time.February && birthday.Day == 29 {
			birthday = birthday.AddDays(1)
		}
		adultFriday := fridayAfterThursday(birthday.AddDays(1))
		laterFriday := fridayAfterThursday(adultFriday.AddDays(7))
		born := resettlement.D(birthday.Year-18, birthday.Month, birthday.Day)
		sentenced := today.AddDays(-40)

		req := openBody("B1111AA", "1", "PVI", today)
		req["person"].(map[string]any)["date_of_birth"] = born.String()
		req["sentence_date"] = sentenced.String()
		req["release_dates"] = map[string]string{"crd": laterFriday.String()} // a Friday, at 18
		v := openCaseOver(t, off, req, "adult-o1")
		if v.SentenceDate != sentenced || v.ReleaseDay != laterFriday.AddDays(-1) {
			t.Fatalf("opened: sentence date %s release day %s, want %s and Thursday %s", v.SentenceDate, v.ReleaseDay, sentenced, laterFriday.AddDays(-1))
		}
		casePath := "/api/v1/cases/" + v.ID
		state := func() *resettlement.Case {
			t.Helper()
			rec, err := d.DB.Case(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.State == nil || rec.SentenceDate != rec.State.SentenceDate {
				t.Fatalf("read model's sentence date %s, the case's %+v", rec.SentenceDate, rec.State)
			}
			return rec.State
		}

		// Brought forward to before their 18th birthday: a child at
		// release, so the Friday stays.
		off.want(off.act(casePath+"/release-dates", "d1", map[string]any{"release_dates": map[string]string{"crd": childFriday.String()},
			"reason": "recalculation"}), 200, "dates before the birthday")
		if c := state(); c.Adult {
			t.Error("17 on the new target, still an adult")
		} else if day, _ := c.ReleaseDay(); day != childFriday {
			t.Errorf("a child due on Friday %s leaves on %s", childFriday, day)
		}
		// Back after the birthday, with a sentence date: an adult again.
		resentenced := today.AddDays(-20)
		off.want(off.act(casePath+"/release-dates", "d2", map[string]any{"release_dates": map[string]string{"crd": adultFriday.String()},
			"sentence_date": resentenced.String(), "reason": "added-days"}), 200, "dates after the birthday")
		if c := state(); !c.Adult || c.SentenceDate != resentenced {
			t.Errorf("18 on the new target: adult %v sentence date %s", c.Adult, c.SentenceDate)
		} else if day, _ := c.ReleaseDay(); day != adultFriday.AddDays(-1) {
			t.Errorf("an adult due on Friday %s leaves on %s, want Thursday %s", adultFriday, day, adultFriday.AddDays(-1))
		}
		// A reset before the birthday: a child again, and no sentence date
		// unless the reset gives one.
		off.want(off.act(casePath+"/reset", "r1", map[string]any{"reason": "new-sentence", "received_on": today.AddDays(-1).String(),
			"release_dates": map[string]string{"crd": childFriday.String()}}), 200, "reset")
		if c := state(); c.Adult || !c.SentenceDate.IsZero() {
			t.Errorf("after the reset: adult %v sentence date %s, want a child and none", c.Adult, c.SentenceDate)
		}

		// A sentence date in the future is refused on opening, by its name.
		bad := openBody("B2222BB", "1", "PVI", today)
		bad["sentence_date"] = today.AddDays(1).String()
		wantProblem(t, off.do("POST", "/api/v1/cases", bad, map[string]string{"Idempotency-Key": "adult-o2"}), 422, "sentence_date", "a sentence date in the future")
	})
}

// fridayAfterThursday is the first Friday on or after d that is a working
// day, as is the Thursday before it: an adult due out on it leaves on that
// Thursday, a child on the Friday itself.
func fridayAfterThursday(d resettlement.Date) resettlement.Date {
	cal := resettlement.EnglandAndWales
	for d.Weekday() != time.Friday || !cal.IsWorkingDay(d) || !cal.IsWorkingDay(d.AddDays(-1)) {
		d = d.AddDays(1)
	}
	return d
}
