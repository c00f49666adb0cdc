package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// BenchmarkCaseListAndBoard10k measures the case list, the search and the
// managers' board over HTTP against the real dev stack with 10,000 open
// cases in the read model: half at Pentonville, half at Brixton, opened
// over the last four months with nothing done since, so most have overdue
// steps and many are stalled (the board's worst case). The cases are
// written straight into PostgreSQL: the list and the board read only it.
//
//	go test ./integration -run '^$' -bench CaseListAndBoard10k -benchtime 300x
//
// reports p50 and p99 latency of each request, in milliseconds.
func BenchmarkCaseListAndBoard10k(b *testing.B) {
	d := benchStack(b)
	defer d.Stop()
	ctx := context.Background()
	start := time.Now()
	n := loadCases(b, d.DB, 10_000)
	b.Logf("loaded %d cases into the read model in %s", n, time.Since(start).Round(time.Millisecond))

	officer := tokenClient(b, d, "officer-1") // Pentonville: 5,000 cases
	manager := tokenClient(b, d, "manager-1") // the Pentonville team's board
	head := tokenClient(b, d, "head-1")       // both teams: all 10,000

	var board api.Board
	head.want(head.do("GET", "/api/v1/board?limit=1", nil, nil), 200, "board").decode(b, &board)
	b.Logf("the head of service's board has %d lines", board.Total)
	var firstPage api.CaseList
	officer.want(officer.do("GET", "/api/v1/cases", nil, nil), 200, "list").decode(b, &firstPage)
	deep := firstPage.NextCursor
	for range 40 { // page 41 of 100
		var p api.CaseList
		officer.do("GET", "/api/v1/cases?cursor="+deep, nil, nil).decode(b, &p)
		deep = p.NextCursor
	}

	for _, c := range []struct {
		name string
		who  *apiClient
		req  func(c *apiClient) response
	}{
		{"list/officer-first-page", officer, func(c *apiClient) response { return c.do("GET", "/api/v1/cases?limit=50", nil, nil) }},
		{"list/officer-page-41", officer, func(c *apiClient) response { return c.do("GET", "/api/v1/cases?limit=50&cursor="+deep, nil, nil) }},
		{"list/head-overdue-release-28d", head, func(c *apiClient) response {
			return c.do("GET", "/api/v1/cases?overdue=true&release_within_days=28&limit=50", nil, nil)
		}},
		{"search/officer-by-name", officer, func(c *apiClient) response {
			return c.do("POST", "/api/v1/cases/search", map[string]any{"q": "mora"}, nil)
		}},
		{"search/head-by-prison-number", head, func(c *apiClient) response {
			return c.do("POST", "/api/v1/cases/search", map[string]any{"q": "A4321BC"}, nil)
		}},
		{"board/manager-5k", manager, func(c *apiClient) response { return c.do("GET", "/api/v1/board?limit=50", nil, nil) }},
		{"board/head-10k", head, func(c *apiClient) response { return c.do("GET", "/api/v1/board?limit=50", nil, nil) }},
		{"board/head-summary-10k", head, func(c *apiClient) response { return c.do("GET", "/api/v1/board/summary", nil, nil) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.who.t = b
			for range 3 { // warm caches and plans
				c.req(c.who)
			}
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				r := c.req(c.who)
				lat = append(lat, time.Since(t0))
				if r.status != http.StatusOK {
					b.Fatalf("status %d: %s", r.status, trim(r.body))
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
	_ = ctx
}

// benchStack starts the dev stack for a benchmark.
func benchStack(b *testing.B) *devstack.Dev {
	port := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	}
	cfg, err := config.Load("dev", []string{"--data-dir", filepath.Join(tempDir(b), "data"), "--http-addr", "127.0.0.1:0",
		"--pg-port", port(), "--temporal-port", port(), "--temporal-ui-port", "0", "--smtp-addr", "127.0.0.1:0",
		"--temporal-shards", "16"}, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := devstack.Start(ctx, cfg, app.NewLogger("warn", "text"))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// tokenClient signs in and makes a personal access token, so the
// measurement is of bearer requests (no session bookkeeping).
func tokenClient(b *testing.B, d *devstack.Dev, login string) *apiClient {
	c := signIn(b, d, login)
	var tok api.NewToken
	c.want(c.do("POST", "/api/v1/tokens", map[string]any{"name": "bench"}, nil), 201, "token").decode(b, &tok)
	t := newClient(b, d.URL)
	t.bearer = tok.Token
	t.hc.Transport = http.DefaultTransport // measure the API, not the response validator
	return t
}

var (
	givenNames  = []string{"Sam", "Alex", "Jo", "Priya", "Tom", "Aisha", "Kwame", "Megan", "Liam", "Zofia", "Dan", "Ravi"}
	familyNames = []string{"Example", "Morales", "Smith", "Okafor", "Nowak", "Patel", "Jones", "Moran", "Khan", "Taylor", "Evans", "Murray"}
)

// loadCases writes n synthetic open cases, deterministic from a fixed seed.
func loadCases(b *testing.B, db *postgres.DB, n int) int {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	today := resettlement.DateOf(now)
	var batch []postgres.SyntheticCase
	for i := range n {
		est, team, owner := "PVI", "pvi-resettlement", "officer-1"
		if i%2 == 1 {
			est, team, owner = "BXI", "bxi-resettlement", "officer-2"
		}
		if i%7 == 0 {
			owner = "" // with the team's queue
		}
		opened := now.Add(-time.Duration(rng.IntN(120*24)) * time.Hour)
		received := resettlement.DateOf(opened).AddDays(-rng.IntN(30))
		crd := today.AddDays(rng.IntN(240) - 10)
		if crd.Before(received) {
			crd = received.AddDays(60)
		}
		c, err := resettlement.Open(resettlement.OpenCase{CaseID: fmt.Sprintf("bench-%05d", i), Establishment: est, Team: team,
			Owner: owner, ReceivedOn: received, Dates: resettlement.ReleaseDates{CRD: crd}, Adult: true}, opened)
		if err != nil {
			b.Fatal(err)
		}
		c.LastProgress = opened.Add(time.Duration(rng.Int64N(int64(now.Sub(opened)) + 1)))
		pn := fmt.Sprintf("%c%04d%c%c", 'A'+rune(i%26), i, 'A'+rune(i/26%26), 'A'+rune(i/676%26))
		if i == 4321 {
			pn = "A4321BC"
		}
		batch = append(batch, postgres.SyntheticCase{
			Person: postgres.Person{PrisonNumber: pn, Booking: "1", GivenName: givenNames[rng.IntN(len(givenNames))],
				FamilyName: familyNames[rng.IntN(len(familyNames))], DateOfBirth: resettlement.D(1960+rng.IntN(40), 1+time.Month(rng.IntN(12)), 1+rng.IntN(28))},
			Case: c, Stage: c.Stage(now), Stalled: c.Stalled(now)})
		if len(batch) == 1000 || i == n-1 {
			if err := db.LoadSynthetic(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return n
}
