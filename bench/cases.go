package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// The bench's prisons: the demonstration teams (PVI, BXI) and eight more
// under the same head of service, each with an officer, so head-1's board
// covers every case loaded, over ten teams as a regional head's would.
var benchTeams = []postgres.Team{
	{ID: "pvi-resettlement", Establishment: "PVI"},
	{ID: "bxi-resettlement", Establishment: "BXI"},
	{ID: "wwi-resettlement", Establishment: "WWI"},
	{ID: "hmi-resettlement", Establishment: "HMI"},
	{ID: "lpi-resettlement", Establishment: "LPI"},
	{ID: "bmi-resettlement", Establishment: "BMI"},
	{ID: "lni-resettlement", Establishment: "LNI"},
	{ID: "nmi-resettlement", Establishment: "NMI"},
	{ID: "ewi-resettlement", Establishment: "EWI"},
	{ID: "swi-resettlement", Establishment: "SWI"},
}

// officerOf is the officer of a bench team: the demonstration officers at
// PVI and BXI, and one made for each other team.
func officerOf(t postgres.Team) string {
	switch t.ID {
	case "pvi-resettlement":
		return "officer-1"
	case "bxi-resettlement":
		return "officer-2"
	}
	return "officer-" + strings.ToLower(t.Establishment)
}

// setUpTeams adds whichever bench teams are missing (the demo seed made
// PVI's and BXI's), each with its officer, all under head-1.
func setUpTeams(ctx context.Context, db *postgres.DB) error {
	return db.InTx(ctx, func(tx *postgres.DB) error {
		for _, t := range benchTeams {
			if _, err := tx.Team(ctx, t.ID); err == nil {
				continue
			} else if !errors.Is(err, postgres.ErrNotFound) {
				return err
			}
			t.Name, t.Email, t.Head, t.Active = t.Establishment+" resettlement", "resettlement@"+strings.ToLower(t.Establishment)+".example.org", "head-1", true
			if err := tx.PutTeam(ctx, t); err != nil {
				return err
			}
			id := officerOf(t)
			if err := tx.PutStaff(ctx, postgres.Staff{ID: id, Name: "Officer " + t.Establishment, Email: id + "@example.org",
				Role: "officer", Team: t.ID, Notify: "each", Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
}

var (
	givenNames  = []string{"Sam", "Alex", "Jo", "Priya", "Tom", "Aisha", "Kwame", "Megan", "Liam", "Zofia", "Dan", "Ravi", "Chloe", "Olu", "Marek", "Siobhan"}
	familyNames = []string{"Example", "Morales", "Smith", "Okafor", "Nowak", "Patel", "Jones", "Moran", "Khan", "Taylor", "Evans", "Murray",
		"Hughes", "Begum", "Kowalski", "O'Brien", "Campbell", "Ahmed", "Wright", "Doyle"}
)

// prisonNumber is a distinct NOMIS-shaped prison number for each i below
// 175 million: a letter, four digits, two letters.
func prisonNumber(i int) string {
	return fmt.Sprintf("%c%04d%c%c", 'A'+rune(i%26), i/26%10000, 'A'+rune(i/260000%26), 'A'+rune(i/6760000%26))
}

// person is a synthetic person for case i.
func person(rng *rand.Rand, i int) postgres.Person {
	return postgres.Person{PrisonNumber: prisonNumber(i), Booking: "1",
		GivenName: givenNames[rng.IntN(len(givenNames))], FamilyName: familyNames[rng.IntN(len(familyNames))],
		DateOfBirth: resettlement.D(1960+rng.IntN(40), 1+time.Month(rng.IntN(12)), 1+rng.IntN(28))}
}

// Mix says how the synthetic caseload behaves; the counts come back from
// synthesize for the table's notes.
type Mix struct {
	Cases, Overdue, Stalled, Released, Queued int
}

// synthesize makes case i of a realistic caseload, as its officers would
// have worked it up to now: release days from 80 days ago to 110 days
// ahead (so about two in five are released and in follow-up), received
// 12 to 30 weeks before release; most steps done a little before they
// fall due, two in five cases behind on one step, one in sixteen stalled
// (nothing done for the last 15 to 45 days), one in ten in the team's
// queue. About 30 % of cases then have an overdue step.
func synthesize(i int, now time.Time) postgres.SyntheticCase {
	rng := rand.New(rand.NewPCG(uint64(i), 0x7468726f756768))
	team := benchTeams[i%len(benchTeams)]
	owner := officerOf(team)
	if rng.IntN(10) == 0 {
		owner = ""
	}
	today := resettlement.DateOf(now)
	crd := today.AddDays(rng.IntN(191) - 80)
	received := crd.AddDays(-(84 + rng.IntN(127)))
	if !received.Before(today) {
		received = today.AddDays(-1 - rng.IntN(5))
	}
	opened := received.At(10*time.Hour + time.Duration(rng.IntN(6*3600))*time.Second)
	if opened.After(now.Add(-time.Hour)) {
		opened = now.Add(-time.Hour)
	}
	c, err := resettlement.Open(resettlement.OpenCase{CaseID: fmt.Sprintf("s%09d", i), Establishment: team.Establishment,
		Team: team.ID, Owner: owner, ReceivedOn: received, Dates: resettlement.ReleaseDates{CRD: crd}, Adult: true,
		OpenedBy: officerOf(team)}, opened)
	if err != nil {
		panic(fmt.Sprintf("synthetic case %d: %v", i, err))
	}
	until := now.Add(-time.Hour)
	behind := rng.IntN(100) < 40
	if rng.IntN(16) == 0 {
		until = now.Add(-time.Duration(15+rng.IntN(31)) * 24 * time.Hour) // stalled: nothing done since
	}
	last := work(c, rng, opened, until, behind, now)
	if until.After(now.Add(-2 * time.Hour)) {
		// Work goes on: the next step started in the last few days.
		at := now.Add(-time.Duration(1+rng.IntN(5*24)) * time.Hour)
		if at.Before(last) {
			at = last.Add(time.Minute)
		}
		for _, s := range c.Steps {
			if s.Status == resettlement.StepNotStarted && !s.OnHold() && s.ID != resettlement.StepRelease {
				_ = c.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: "start", By: "officer-1"},
					StepID: s.ID, Action: resettlement.ActionStart}, at)
				break
			}
		}
	}
	// What fell due was raised at the time: a workflow started from this
	// state (the temporal scenario) raises nothing stale.
	c.TakeDue(now)
	return postgres.SyntheticCase{Person: person(rng, i), Case: c, Stage: c.Stage(now), Stalled: c.Stalled(now)}
}

// work completes the case's steps in the order they fall due, each a
// little before its due instant, up to until; a case behind leaves one
// step that fell due in the last three weeks undone.
func work(c *resettlement.Case, rng *rand.Rand, opened, until time.Time, behind bool, now time.Time) (last time.Time) {
	by := c.Owner
	if by == "" {
		by = "officer-1"
	}
	last = opened
	skipped := map[string]bool{}
	for n := 0; n < 40; n++ {
		var next *resettlement.Step
		for _, s := range c.Steps {
			if s.Status.Open() && !s.OnHold() && !skipped[s.ID] && (next == nil || s.Due.Before(next.Due)) {
				s := s
				next = &s
			}
		}
		if next == nil {
			return last
		}
		at := next.Due.Add(-time.Duration(rng.IntN(72*3600)) * time.Second)
		if next.ID == resettlement.StepRelease {
			rd, _ := c.ReleaseDay()
			at = rd.At(10 * time.Hour)
		}
		if at.Before(last) {
			at = last.Add(time.Minute)
		}
		if at.After(until) {
			return last
		}
		if behind && next.Due.Before(now) && next.Due.After(now.Add(-21*24*time.Hour)) && next.ID != resettlement.StepRelease {
			skipped[next.ID], behind = true, false
			continue
		}
		err := c.ActOnStep(resettlement.ActOnStep{Meta: resettlement.Meta{RequestID: fmt.Sprintf("w%d", n), By: by},
			StepID: next.ID, Action: resettlement.ActionComplete}, at)
		if err != nil {
			skipped[next.ID] = true
			continue
		}
		last = at
	}
	return last
}

// loadSynthetic writes n synthetic cases into the read model with their
// board lines (postgres.DB.LoadSynthetic), generating on every core while
// PostgreSQL copies, and returns the mix.
func loadSynthetic(ctx context.Context, db *postgres.DB, n int, now time.Time, progress func(done int)) (Mix, error) {
	const batch = 5000
	type job struct{ from, to int }
	jobs := make(chan job)
	batches := make(chan []postgres.SyntheticCase, 2)
	var mu sync.Mutex
	var mix Mix
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out := make([]postgres.SyntheticCase, 0, j.to-j.from)
				var m Mix
				for i := j.from; i < j.to; i++ {
					sc := synthesize(i, now)
					m.Cases++
					if slices.ContainsFunc(sc.Case.Steps, func(s resettlement.Step) bool { return s.Overdue(now) }) {
						m.Overdue++
					}
					if sc.Stalled {
						m.Stalled++
					}
					if sc.Case.Released() {
						m.Released++
					}
					if sc.Case.Owner == "" {
						m.Queued++
					}
					out = append(out, sc)
				}
				mu.Lock()
				mix.Cases += m.Cases
				mix.Overdue += m.Overdue
				mix.Stalled += m.Stalled
				mix.Released += m.Released
				mix.Queued += m.Queued
				mu.Unlock()
				select {
				case batches <- out:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for from := 0; from < n; from += batch {
			select {
			case jobs <- job{from, min(from+batch, n)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(batches) }()
	done := 0
	var err error
	for b := range batches {
		if err == nil {
			err = db.LoadSynthetic(ctx, b)
			done += len(b)
			if progress != nil {
				progress(done)
			}
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return mix, err
}

// personFor is the synthetic person numbered i (below 175 million).
func personFor(i int) postgres.Person {
	return person(rand.New(rand.NewPCG(uint64(i), 1)), i)
}
