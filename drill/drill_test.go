//go:build drill

package drill

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/resettlement"
)

// TestFaultDrill is `make drill`: the separated topology broken five ways,
// each with cases in flight and their alarms firing on the fast ladder.
//
//  1. A worker killed (kill -9) in the middle of an activity: the case's
//     next write (its SaveCase or a RaiseAlarm, either of which may run
//     locally) is caught blocked in PostgreSQL, and the worker holding it
//     is killed. The other worker must take the activity over (after an
//     ordinary activity's 5 s start-to-close timeout, or for a local one
//     the workflow task's 10 s) and the dead worker's outbox claims (after
//     their 30 s lease).
//  2. The SMTP relay stopped for DRILL_SMTP_OUTAGE (default 10m). On the
//     fast ladder a working day is about 5 s, so ten minutes stand for
//     some 120 working days: every rung of every case in flight comes due
//     while the relay is away, and a new case opens every minute of it.
//     The outbox's retry backoff is not scaled (30 s doubling, real time),
//     but the first email the relay takes again makes every backed-off one
//     due (outbox.Sender's noteRelay); the drill shows how long delivery
//     lags the relay's return.
//  3. PostgreSQL restarted (fast shutdown, down 10 s — two rungs of the
//     ladder — then started on the same data).
//  4. The Temporal server restarted (SIGTERM, down 10 s, started again).
//  5. The API killed (kill -9) while an update is waiting on the case's
//     save; the client retries with the same Idempotency-Key.
//
// After each: no reminder lost (every alarm the cases' states say fired
// was raised and its emails delivered), at most one duplicate, with the
// same Message-ID; every case's read model equal to its workflow's state;
// every update answered, and each applied once however often it was sent.
func TestFaultDrill(t *testing.T) {
	outage := 10 * time.Minute
	if v := os.Getenv("DRILL_SMTP_OUTAGE"); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatalf("DRILL_SMTP_OUTAGE: %v", err)
		}
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()
	topo := startTopology(t, ctx)
	d := &drill{t: t, ctx: ctx, topo: topo, today: resettlement.DateOf(time.Now())}

	results := []*faultResult{
		d.run("worker killed (kill -9) mid-activity", d.killWorker),
		d.run(fmt.Sprintf("SMTP relay down %s", outage), d.smtpDown(outage)),
		d.run("PostgreSQL restarted (down 10 s)", d.restartPostgres),
		d.run("Temporal server restarted (down 10 s)", d.restartTemporal),
		d.run("API killed (kill -9) during an update", d.killAPI),
	}

	// Every case of the drill once more, now that everything has settled.
	var all []string
	for _, r := range results {
		all = append(all, r.Cases...)
	}
	final, err := topo.AuditCases(ctx, all, 2*time.Minute)
	if err != nil {
		t.Fatalf("final audit: %v", err)
	}
	for _, l := range final.Lost {
		t.Errorf("final audit: lost: %s", l)
	}
	for _, m := range final.Mismatches {
		t.Errorf("final audit: read model differs: %s", m)
	}
	if stray, err := topo.StrayMessages(ctx); err != nil || len(stray) > 0 {
		t.Errorf("messages no outbox row explains (a re-send with a new Message-ID?): %v %v", stray, err)
	}

	table := drillTable(results, final, time.Since(began))
	fmt.Println(table)
	if dir := topo.Programs.Cache; dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "last-drill.md"), []byte(table), 0o644)
	}
}

type drill struct {
	t     *testing.T
	ctx   context.Context
	topo  *Topology
	today resettlement.Date
	seq   int
}

// faultResult is one row of the table and what lies behind it.
type faultResult struct {
	Name     string
	Cases    []string
	Audit    Audit
	Recovery time.Duration
	Changes  []Change
	Retried  int
	Notes    []string
}

// faultRun is a fault in progress: its cases, its client, and what the
// injection tells the measurement.
type faultRun struct {
	d      *drill
	client *Client
	cases  []string
	opened time.Time // when its last case opened
	// restored is when the fault ended: the part back, or, for a killed
	// worker, the kill itself (the other worker is what restores service).
	restored time.Time
	// recovered, if set, must also hold for the fault to count as recovered.
	recovered func() bool
	// finish, if set, runs once the fault has recovered (before the audit).
	finish func()
	notes  []string
	// applied are the step actions sent, to check each happened once.
	mu      sync.Mutex
	applied []stepAction
}

type stepAction struct {
	caseID, step, action string
	ch                   *Change
}

// batch is how many cases each fault opens just before it strikes.
const batch = 4

// slack is the engine's normal latency from an alarm's instant to its
// email at the relay (a timer, two activities, the sender's 1 s poll):
// the recovery time counts until nothing is later than that.
const slack = 5 * time.Second

// run opens the fault's cases, keeps changes flowing on them, strikes,
// measures the recovery, waits for the cases' ladders to finish, and audits.
func (d *drill) run(name string, inject func(*faultRun) error) *faultResult {
	t := d.t
	res := &faultResult{Name: name}
	t.Logf("=== %s", name)
	client, err := SignIn(d.ctx, d.topo.APIURL, Officer, d.topo.Password)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	f := &faultRun{d: d, client: client}
	for range batch {
		f.open()
		time.Sleep(1500 * time.Millisecond)
	}

	// Changes keep flowing on the cases through the fault, one every two
	// seconds, each retried with its key until answered.
	var wl sync.WaitGroup
	wl.Add(1)
	first := slices.Clone(f.cases)
	go func() {
		defer wl.Done()
		f.workload(first)
	}()

	if err := inject(f); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, d.topo.Logs(30))
	}
	t.Logf("%s: restored at %s", name, f.restored.Format("15:04:05.000"))
	// Recovered: caught up (every alarm due more than the engine's normal
	// latency ago raised, every email raised that long ago delivered,
	// every process ready) and whatever the fault adds.
	ok := waitFor(d.ctx, 20*time.Minute, func() bool {
		return d.topo.CaughtUp(d.ctx, f.cases, slack) && (f.recovered == nil || f.recovered())
	})
	res.Recovery = time.Since(f.restored)
	if !ok {
		unsent, _ := d.topo.Unsent(d.ctx, time.Now())
		t.Errorf("%s: not recovered within 20 minutes (%d emails unsent, ready %v)", name, unsent, d.topo.Ready())
	}
	t.Logf("%s: recovered in %s", name, res.Recovery.Round(100*time.Millisecond))
	if f.finish != nil {
		f.finish()
	}

	// Let the cases' ladders and the changes run out, then audit.
	if wait := time.Until(f.opened.Add(ladderSpan + 5*time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	wl.Wait()
	res.Cases = f.cases
	res.Audit, err = d.topo.AuditCases(d.ctx, f.cases, 2*time.Minute)
	if err != nil {
		t.Fatalf("%s: audit: %v", name, err)
	}
	for _, l := range res.Audit.Lost {
		t.Errorf("%s: lost: %s", name, l)
	}
	for _, m := range res.Audit.Mismatches {
		t.Errorf("%s: read model differs from the workflow: %s", name, m)
	}
	if res.Audit.Duplicates > 1 {
		t.Errorf("%s: %d duplicate emails, want at most one", name, res.Audit.Duplicates)
	}
	if res.Audit.Fired == 0 {
		t.Errorf("%s: no alarm fired on its cases", name)
	}
	res.Changes = client.Changes()
	for _, ch := range res.Changes {
		if ch.Retried() {
			res.Retried++
		}
		if ch.Status != http.StatusOK && ch.Status != http.StatusCreated {
			t.Errorf("%s: not answered: %s", name, &ch)
		}
	}
	f.checkAppliedOnce(res)
	res.Notes = append(res.Notes, f.notes...)
	if res.Audit.PassedOver > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d alarms passed over for a higher one that came due with them", res.Audit.PassedOver))
	}
	t.Logf("%s: %d cases, %d alarms fired (%d raised), %d/%d emails delivered, %d duplicates, %d lost, %d changes (%d retried)",
		name, len(res.Cases), res.Audit.Fired, res.Audit.Raised, res.Audit.Delivered, res.Audit.Emails, res.Audit.Duplicates,
		len(res.Audit.Lost), len(res.Changes), res.Retried)
	return res
}

// open opens one more case for the fault: released five working days from
// today, received 60 days ago, so most of its steps are graced and its
// whole ladder fires within ladderSpan.
func (f *faultRun) open() {
	f.d.seq++
	id, _, err := openCase(f.d.ctx, f.client, prisonNumber('D', f.d.seq), resettlement.EnglandAndWales.AddWorkingDays(f.d.today, 5), 3*time.Minute)
	if err != nil {
		f.d.t.Fatalf("%v\n%s", err, f.d.topo.Logs(20))
	}
	if err := recordConsent(f.d.ctx, f.client, id, 3*time.Minute); err != nil {
		f.d.t.Fatal(err)
	}
	f.cases = append(f.cases, id)
	f.opened = time.Now()
}

// workload works the fault's first cases' steps, one change every two
// seconds, 24 changes in all.
func (f *faultRun) workload(cases []string) {
	plan := []struct{ step, action string }{
		{"immediate-needs", "start"}, {"housing-referral", "start"}, {"immediate-needs", "complete"},
		{"id-documents", "start"}, {"housing-referral", "complete"}, {"bank-account", "start"},
	}
	for _, p := range plan {
		for _, id := range cases {
			time.Sleep(2 * time.Second)
			f.act(id, p.step, p.action, fmt.Sprintf("%s-%s-%s", id, p.step, p.action))
		}
	}
}

// act sends one step action, retried with its key until answered.
func (f *faultRun) act(caseID, step, action, key string) *Change {
	ch := f.client.Change(f.d.ctx, "/api/v1/cases/"+caseID+"/steps/"+step+"/actions", key, map[string]any{"action": action}, 3*time.Minute)
	f.mu.Lock()
	f.applied = append(f.applied, stepAction{caseID, step, action, ch})
	f.mu.Unlock()
	return ch
}

// checkAppliedOnce checks that every step action answered 200 happened
// exactly once in its case, however many times it was sent.
func (f *faultRun) checkAppliedOnce(res *faultResult) {
	to := map[string]resettlement.StepStatus{"start": resettlement.StepInProgress, "complete": resettlement.StepDone}
	f.mu.Lock()
	applied := slices.Clone(f.applied)
	f.mu.Unlock()
	states := map[string][]resettlement.Event{}
	for _, a := range applied {
		if a.ch.Status != http.StatusOK {
			continue
		}
		if _, ok := states[a.caseID]; !ok {
			st, err := f.d.topo.State(f.d.ctx, a.caseID)
			if err != nil {
				f.d.t.Errorf("%s: %v", res.Name, err)
				continue
			}
			states[a.caseID] = st.Case.Events
		}
		n := 0
		for _, e := range states[a.caseID] {
			if e.StepID == a.step && e.To == to[a.action] && e.By == Officer {
				n++
			}
		}
		if n != 1 {
			f.d.t.Errorf("%s: %s %s on case %s (sent %d times) happened %d times", res.Name, a.action, a.step, a.caseID, a.ch.Attempts, n)
		}
	}
}

// killWorker catches a worker in the middle of an activity and kills it.
func (d *drill) killWorker(f *faultRun) error {
	time.Sleep(3 * time.Second) // the first alarms are due about now
	locked := f.cases[0]
	release, err := d.topo.LockCase(d.ctx, locked)
	if err != nil {
		return err
	}
	defer release()
	w, query, err := d.topo.BlockedOn(d.ctx, d.topo.Workers, time.Minute)
	if err != nil {
		return fmt.Errorf("waiting for a worker's SaveCase to block on case %s: %w", locked, err)
	}
	if err := w.Kill(); err != nil {
		return err
	}
	f.restored = time.Now()
	release()
	words := strings.Fields(query)
	f.notes = append(f.notes, fmt.Sprintf("%s killed while its activity waited in %q", w.Name, strings.Join(words[:min(3, len(words))], " ")))
	d.t.Logf("killed %s while it ran: %.120s", w.Name, query)
	// Recovered when the survivor has sent the dead one's emails and the
	// interrupted case's read model has caught up.
	f.recovered = func() bool {
		st, err := d.topo.State(d.ctx, locked)
		if err != nil {
			return false
		}
		rec, err := d.topo.DB.Case(d.ctx, locked)
		return err == nil && rec.Version == st.Case.Version
	}
	// Then the dead worker comes back, for the next fault.
	f.finish = func() {
		if err := w.Start(); err != nil {
			d.t.Fatalf("restarting %s: %v", w.Name, err)
		}
		i := slices.Index(d.topo.Workers, w)
		if err := d.topo.WaitReady(d.ctx, w, d.topo.WorkerOpsURL[i], time.Minute); err != nil {
			d.t.Fatal(err)
		}
	}
	return nil
}

// smtpDown stops the relay for outage, opening a case every minute of it.
func (d *drill) smtpDown(outage time.Duration) func(*faultRun) error {
	return func(f *faultRun) error {
		time.Sleep(2 * time.Second)
		if err := d.topo.Relay.Stop(); err != nil {
			return err
		}
		down := time.Now()
		for time.Since(down) < outage {
			next := min(time.Minute, outage-time.Since(down))
			time.Sleep(next)
			if time.Since(down) < outage-10*time.Second {
				f.open()
			}
		}
		pending, _ := d.topo.Unsent(d.ctx, time.Now())
		if err := d.topo.Relay.Start(); err != nil {
			return err
		}
		f.restored = time.Now()
		f.notes = append(f.notes, fmt.Sprintf("%d emails waiting when the relay came back", pending))
		return nil
	}
}

// restartPostgres stops PostgreSQL, keeps it down 10 s and starts it again.
func (d *drill) restartPostgres(f *faultRun) error {
	time.Sleep(8 * time.Second)
	if err := d.topo.StopPostgres(d.ctx); err != nil {
		return err
	}
	time.Sleep(10 * time.Second)
	if err := d.topo.StartPostgres(d.ctx); err != nil {
		return err
	}
	f.restored = time.Now()
	return nil
}

// restartTemporal stops the Temporal server, keeps it down 10 s and starts
// it again.
func (d *drill) restartTemporal(f *faultRun) error {
	time.Sleep(8 * time.Second)
	if err := d.topo.StopTemporal(); err != nil {
		return err
	}
	time.Sleep(10 * time.Second)
	if err := d.topo.StartTemporal(d.ctx); err != nil {
		return err
	}
	f.restored = time.Now()
	return nil
}

// killAPI kills the API while an update waits on its case's save, starts
// it again, and has the client retry with the same key.
func (d *drill) killAPI(f *faultRun) error {
	time.Sleep(3 * time.Second)
	target := f.cases[1] // not one the workload is on right now
	release, err := d.topo.LockCase(d.ctx, target)
	if err != nil {
		return err
	}
	defer release()
	key := "api-kill-" + target
	done := make(chan *Change, 1)
	go func() { done <- f.act(target, "benefits", "start", key) }()
	var claimed bool
	if !waitFor(d.ctx, time.Minute, func() bool { claimed, _ = d.topo.KeyClaimed(d.ctx, key); return claimed }) {
		return fmt.Errorf("the update %s never reached the API", key)
	}
	if _, _, err := d.topo.BlockedOn(d.ctx, d.topo.Workers, time.Minute); err != nil {
		return fmt.Errorf("the update's save never blocked: %w", err)
	}
	if err := d.topo.API.Kill(); err != nil {
		return err
	}
	killed := time.Now()
	release()
	time.Sleep(2 * time.Second)
	if err := d.topo.API.Start(); err != nil {
		return err
	}
	if err := d.topo.WaitReady(d.ctx, d.topo.API, d.topo.APIOpsURL, time.Minute); err != nil {
		return err
	}
	f.restored = time.Now()
	var answered *Change
	f.recovered = func() bool {
		if answered == nil {
			select {
			case answered = <-done:
			default:
			}
		}
		return answered != nil
	}
	f.finish = func() {
		f.notes = append(f.notes, fmt.Sprintf("API down %s; the update in flight when it died was sent %d times and answered %d",
			f.restored.Sub(killed).Round(100*time.Millisecond), answered.Attempts, answered.Status))
	}
	return nil
}

// drillTable is the drill's result as a Markdown table.
func drillTable(rs []*faultResult, final Audit, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| fault | cases | alarms due | emails delivered | duplicates | lost | recovery time |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rs {
		a := r.Audit
		fmt.Fprintf(&b, "| %s | %d | %d | %d of %d | %d | %d | %s |\n", r.Name, len(r.Cases), a.Fired, a.Delivered, a.Emails,
			a.Duplicates, len(a.Lost), r.Recovery.Round(100*time.Millisecond))
	}
	fmt.Fprintf(&b, "\nAll %d cases at the end: %d alarms due (%d raised, %d passed over for a higher one due with them), %d of %d emails delivered, %d duplicates, %d lost, %d read models differing from their workflow.\n",
		len(final.Cases), final.Fired, final.Raised, final.PassedOver, final.Delivered, final.Emails, final.Duplicates, len(final.Lost), len(final.Mismatches))
	for _, r := range rs {
		n := len(r.Changes)
		fmt.Fprintf(&b, "\n- %s: %d updates sent, all answered; %d needed a retry with the same Idempotency-Key, each applied once.", r.Name, n, r.Retried)
		for _, note := range r.Notes {
			fmt.Fprintf(&b, " %s.", note)
		}
	}
	fmt.Fprintf(&b, "\n\nDrill time %s.\n", took.Round(time.Second))
	return b.String()
}
