package httpserver

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/throughgate/throughgate/internal/auth"
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
	Error     string  `json:"error,omitempty"` // to administrators only
}

// Readiness is the body of GET /readyz.
type Readiness struct {
	Ready        bool              `json:"ready"`
	Dependencies []DependencyState `json:"dependencies"`
}

// Liveness is the body of GET /healthz: the process answers, and which
// build it is.
type Liveness struct {
	Status  string `json:"status"` // always "alive"
	Version string `json:"version"`
}

func healthz(version string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, Liveness{Status: "alive", Version: version})
	}
}

// readyz asks every dependency at once, each with a short deadline, and
// answers 503 when any is down so a load balancer stops sending traffic.
// Anyone may see each dependency's state; only a signed-in administrator
// sees why one is down (an error's text names hosts, ports and accounts).
func readyz(checks []Check, isAdmin func(*http.Request) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		admin := isAdmin != nil && isAdmin(r.WithContext(ctx))
		out := Readiness{Ready: true, Dependencies: make([]DependencyState, len(checks))}
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Go(func() {
				start := time.Now()
				err := c.Fn(ctx)
				d := DependencyState{Name: c.Name, State: "up", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
				if err != nil {
					d.State = "down"
					if admin {
						d.Error = err.Error()
					}
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

// adminOf reports whether a request comes from a signed-in administrator
// (false when nobody can tell, as when the database is down).
func adminOf(a *auth.Authenticator) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if a == nil {
			return false
		}
		p, err := a.Authenticate(r)
		return err == nil && p.IsAdmin()
	}
}
