package httpserver

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Check is one dependency the readiness probe asks after.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// DependencyState is one line of the readiness answer.
type DependencyState struct {
	Name      string  `json:"name"`
	State     string  `json:"state"` // "up" or "down"
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// Readiness is the body of GET /readyz.
type Readiness struct {
	Ready        bool              `json:"ready"`
	Dependencies []DependencyState `json:"dependencies"`
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// readyz asks every dependency at once, each with a short deadline, and
// answers 503 when any is down so a load balancer stops sending traffic.
func readyz(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		out := Readiness{Ready: true, Dependencies: make([]DependencyState, len(checks))}
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Go(func() {
				start := time.Now()
				err := c.Fn(ctx)
				d := DependencyState{Name: c.Name, State: "up", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
				if err != nil {
					d.State, d.Error = "down", err.Error()
				}
				out.Dependencies[i] = d
			})
		}
		wg.Wait()
		status := http.StatusOK
		for _, d := range out.Dependencies {
			if d.State != "up" {
				out.Ready, status = false, http.StatusServiceUnavailable
			}
		}
		writeJSON(w, status, out)
	}
}
