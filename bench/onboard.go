package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	s, done, err := e.stack(ctx, nil)
	if err != nil {
		return err
	}
	defer done()
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
	var split [2][3]time.Duration // throughgate, bare: the stack process, PostgreSQL, this harness
	addSplit := func(i int, before [3]time.Duration) {
		a, b, c := s.CPUSplit()
		split[i][0] += a - before[0]
		split[i][1] += b - before[1]
		split[i][2] += c - before[2]
	}
	var answers []time.Duration
	var mu sync.Mutex
	quarter := max(n/4, 1)
	var bareDone time.Time // when the last bare round's last activity ran
	base := 151_000_000    // people numbered from here: each opening a new person
	for round, who := range []string{"bare", "throughgate", "throughgate", "bare"} {
		began, cpu := time.Now(), s.CPU()
		var before [3]time.Duration
		before[0], before[1], before[2] = s.CPUSplit()
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
			bareDone = last
			bareCPU += s.CPU() - cpu
			addSplit(1, before)
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
			addSplit(0, before)
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
		Note: fmt.Sprintf("user and system time, what an opening costs whatever else the machine runs (the rates above are bounded by it): "+
			"Throughgate %s in the throughgate process (Temporal server, worker, API), %s in PostgreSQL, %s in this harness (the HTTP client); "+
			"bare %s, %s and %s (this harness runs the bare worker)",
			ms(split[0][0]/time.Duration(total)), ms(split[0][1]/time.Duration(total)), ms(split[0][2]/time.Duration(total)),
			ms(split[1][0]/time.Duration(total)), ms(split[1][1]/time.Duration(total)), ms(split[1][2]/time.Duration(total)))})
	slices.Sort(answers)
	e.table.add(Row{Scenario: name, Figure: "POST /api/v1/cases answered, p99", TG: fmt.Sprintf("%s (p50 %s)", ms(pct(answers, 0.99)), ms(pct(answers, 0.5))),
		Outcome: Info, Note: "the answer comes before any worker runs: the service plans the case itself"})

	// The bulk path: the same number of people in one CSV file, imported
	// through POST /api/v1/imports; done when every case's workflow has
	// saved it, as above.
	// First the dry run an officer is asked for: every row checked,
	// nothing created.
	csvFile := importCSV(base, total, time.Now())
	dryBegan := time.Now()
	status, b, err := api.doRaw("POST", "/api/v1/imports?dry_run=true", "text/csv", csvFile, nil)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		dry := time.Since(dryBegan)
		var rep struct {
			Status string            `json:"status"`
			Rows   []json.RawMessage `json:"rows"` // those with problems, or already open
		}
		_ = json.Unmarshal(b, &rep)
		e.table.add(Row{Scenario: name, Figure: fmt.Sprintf("bulk path: dry run of the same file (%s rows checked, nothing created)", count(total)),
			TG: fmt.Sprintf("%s (%.0f rows/s)", secs(dry), float64(total)/dry.Seconds()), Outcome: Info,
			Note: fmt.Sprintf("POST /api/v1/imports?dry_run=true answered %q with %d rows to look at (with problems, or open already)", rep.Status, len(rep.Rows))})
	}
	// The last bare round leaves timer tasks behind: each activity's
	// start-to-close timeout and each workflow task's fire after the
	// workflow is done with them, and Temporal reads the workflow back from
	// PostgreSQL to find so. In a profile of the import they were 4 % of
	// the process's processor time. Wait them out, so that what the import
	// is charged is its own (a quick run, not judged, does not wait).
	if !e.quick {
		time.Sleep(time.Until(bareDone.Add(bareActivityTimeout + 5*time.Second)))
	}
	began, cpu := time.Now(), s.CPU()
	var bulkBefore [3]time.Duration
	bulkBefore[0], bulkBefore[1], bulkBefore[2] = s.CPUSplit()
	status, b, err = api.doRaw("POST", "/api/v1/imports", "text/csv", csvFile,
		map[string]string{"Idempotency-Key": "bench-import"})
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		e.table.add(Row{Scenario: name, Figure: "bulk path: CSV import", Target: "≥ 0.60 of bare, ≥ 100 cases/s", Outcome: NotBuilt,
			Note: "POST /api/v1/imports answers 404: there is no CSV import in this build"})
		return nil
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /api/v1/imports: %d %s", status, trim(b))
	}
	var imp struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Progress struct {
			Done   int `json:"done"`
			Opened int `json:"opened"`
			Failed int `json:"failed"`
		} `json:"progress"`
	}
	_ = json.Unmarshal(b, &imp)
	for imp.Status != "done" {
		if time.Since(began) > 2*time.Hour {
			return fmt.Errorf("the import %s has dealt with %d of %d rows after two hours", imp.ID, imp.Progress.Done, total)
		}
		time.Sleep(poll(e))
		if err := api.get("/api/v1/imports/"+imp.ID+"?limit=1", &imp); err != nil {
			return err
		}
	}
	imported := time.Since(began)
	var saved, opened int
	var last time.Time
	for {
		if err := s.Pool.QueryRow(ctx, `select count(*), count(*) filter (where version >= 1), coalesce(max(updated_at), now())
			from cases where opened_at >= $1`, began).Scan(&opened, &saved, &last); err != nil {
			return err
		}
		if saved >= opened || time.Since(began) > 2*time.Hour {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	bulkTime := last.Sub(began)
	per := time.Duration(max(opened, 1))
	bulkCPU := (s.CPU() - cpu) / per
	tgB, pgB, hB := s.CPUSplit()
	bulkRate := float64(opened) / bulkTime.Seconds()
	r := Row{Scenario: name, Figure: fmt.Sprintf("bulk path: import %s people from one CSV file, to every workflow asleep", count(total)),
		TG: fmt.Sprintf("%.0f cases/s", bulkRate), Bare: fmt.Sprintf("%.0f workflows/s", bareRate), Ratio: ratio(bulkRate, bareRate),
		Target: "≥ 0.60 of bare, ≥ 100 cases/s",
		Note: fmt.Sprintf("%d opened, %d failed; the import itself (every row dealt with) took %s (%.0f rows/s), its workflows asleep %s later; "+
			"processor time per case %s (bare %s): %s in the throughgate process, %s in PostgreSQL, %s in this harness",
			opened, imp.Progress.Failed, secs(imported), float64(total)/imported.Seconds(), secs(max(bulkTime-imported, 0)), ms(bulkCPU), ms(barePer),
			ms((tgB-bulkBefore[0])/per), ms((pgB-bulkBefore[1])/per), ms((hB-bulkBefore[2])/per))}
	e.table.judge(r, opened == total && bulkRate >= 0.6*bareRate && bulkRate >= 100)
	return nil
}

// importCSV is a CSV file of n people, numbered from base, as the import
// template has them (docs/import-template.csv): received today, released
// in 120 days, at Pentonville with officer-1.
func importCSV(base, n int, now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString("prison_number,booking,given_name,family_name,date_of_birth,local_authority,establishment,team,owner,received_on,sentence_date,crd\n")
	today := resettlement.DateOf(now)
	for i := range n {
		p := personFor(base + i)
		fmt.Fprintf(&b, "%s,1,%s,%s,%s,Islington,PVI,pvi-resettlement,officer-1,%s,,%s\n",
			p.PrisonNumber, p.GivenName, csvField(p.FamilyName), p.DateOfBirth, today, today.AddDays(120))
	}
	return b.Bytes()
}

// csvField quotes a field when it needs it (O'Brien does not; a comma would).
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
