package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// onboardConc is how many openings are in flight at once, for Throughgate
// and for the bare workflows alike: an import or a busy morning's officers.
const onboardConc = 8

// runOnboard opens n cases through POST /api/v1/cases and starts n bare
// workflows doing the same Temporal work, in four rounds of n/4 (bare,
// Throughgate, Throughgate, bare: whatever the server gains or loses as
// its tables grow falls on both alike), and compares the rates. A case's
// opening is done when its workflow has saved it (SaveCase) and sleeps on
// its timer; a bare workflow's when its second activity has run.
//
// Opening a case raises the immediate-needs reminder at once (a step due
// three days after reception is reminded three working days before), so
// the Temporal work of an opening is: start, two activities (RaiseAlarm,
// SaveCase), one timer. The bare workflow does the same.
func runOnboard(ctx context.Context, e *env, n int) error {
	const name = "onboard"
	s, err := StartStack(ctx, e.bin, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	tok, err := s.Token(ctx, "officer-1")
	if err != nil {
		return err
	}
	api := newAPIClient(s.URL, tok, onboardConc)
	tc, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	acts, stopWorker, err := startBareWorker(tc)
	if err != nil {
		return err
	}
	defer stopWorker()

	var tgTime, bareTime, tgCPU, bareCPU time.Duration
	var answers []time.Duration
	var mu sync.Mutex
	quarter := max(n/4, 1)
	base := 151_000_000
	for round, who := range []string{"bare", "throughgate", "throughgate", "bare"} {
		began, cpu := time.Now(), s.CPU()
		switch who {
		case "bare":
			want, _ := acts.savedCount()
			want += quarter
			if err := startBare(ctx, tc, fmt.Sprintf("onboard-%d", round), quarter, onboardConc, BareOnboard,
				BareInput{Sleep: 30 * 24 * time.Hour}); err != nil {
				return err
			}
			var last time.Time
			for {
				got, at := acts.savedCount()
				if got >= want {
					last = at
					break
				}
				if time.Since(began) > 30*time.Minute {
					return fmt.Errorf("bare workflows: %d of %d saved after 30 minutes", got-want+quarter, quarter)
				}
				time.Sleep(20 * time.Millisecond)
			}
			bareTime += last.Sub(began)
			bareCPU += s.CPU() - cpu
		case "throughgate":
			ids := make([]string, quarter)
			today := time.Now()
			err := parallel(ctx, quarter, onboardConc, func(i int) error {
				t0 := time.Now()
				req := openRequest(base+i, resettlement.DateOf(today))
				status, b, err := api.do("POST", "/api/v1/cases", req, map[string]string{"Idempotency-Key": fmt.Sprintf("onboard-%d", base+i)})
				if err != nil {
					return err
				}
				if status != 201 {
					return fmt.Errorf("POST /api/v1/cases: %d %s", status, trim(b))
				}
				mu.Lock()
				answers = append(answers, time.Since(t0))
				mu.Unlock()
				ids[i] = idOf(b)
				return nil
			})
			if err != nil {
				return err
			}
			base += quarter
			if err := waitSaved(ctx, s, ids, 30*time.Minute); err != nil {
				return err
			}
			var last time.Time
			if err := s.Pool.QueryRow(ctx, `select max(updated_at) from cases where id = any($1)`, ids).Scan(&last); err != nil {
				return err
			}
			tgTime += last.Sub(began)
			tgCPU += s.CPU() - cpu
		}
		e.logf("  round %d (%s): %d in %s", round+1, who, quarter, time.Since(began).Round(100*time.Millisecond))
	}
	total := 2 * quarter
	tgRate, bareRate := float64(total)/tgTime.Seconds(), float64(total)/bareTime.Seconds()
	e.table.judge(Row{Scenario: name, Figure: fmt.Sprintf("open %s cases, %d at a time: POST /api/v1/cases to workflow asleep", count(total), onboardConc),
		TG: fmt.Sprintf("%.0f cases/s", tgRate), Bare: fmt.Sprintf("%.0f workflows/s", bareRate), Ratio: ratio(tgRate, bareRate),
		Target: "≥ 0.60 of bare"}, tgRate >= 0.6*bareRate)
	tgPer, barePer := tgCPU/time.Duration(total), bareCPU/time.Duration(total)
	e.table.add(Row{Scenario: name, Figure: "processor time per opening, every process", TG: ms(tgPer), Bare: ms(barePer),
		Ratio: ratio(tgPer.Seconds(), barePer.Seconds()), Outcome: Info,
		Note: "user and system time of throughgate (server, worker, API), PostgreSQL and this harness (the client, and the bare worker): " +
			"what an opening costs whatever else the machine runs; the rates above are bounded by it on a machine with nothing else to do"})
	slices.Sort(answers)
	e.table.add(Row{Scenario: name, Figure: "POST /api/v1/cases answered, p99", TG: fmt.Sprintf("%s (p50 %s)", ms(pct(answers, 0.99)), ms(pct(answers, 0.5))),
		Outcome: Info, Note: "the answer comes before any worker runs: the service plans the case itself"})
	e.table.add(Row{Scenario: name, Figure: "bulk path: CSV import", Target: "≥ 0.60 of bare, ≥ 100 cases/s", Outcome: NotBuilt,
		Note: "there is no CSV import yet (no bulk opening path in the API or the pages); measure it here when it exists"})
	return nil
}
