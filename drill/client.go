package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"time"
)

// Client calls the API over HTTP as one person, signed in with a session
// cookie. Changes go through Change, which retries a request that got no
// answer (the connection failed or broke) or a 5xx with the same
// Idempotency-Key, as a careful client does, and records every change.
type Client struct {
	Base string
	hc   *http.Client

	mu      sync.Mutex
	changes []*Change
}

// Change is one change sent through the API: its key, how many attempts
// it took, the errors of the failed ones, and the final answer.
type Change struct {
	Path, Key string
	Attempts  int
	Failures  []string // one per attempt that got no answer or a 5xx
	Status    int      // the final answer's status (0: none)
	Body      []byte
	Sent      time.Time
	Answered  time.Time
}

// String says how the change went, for a failure message.
func (c *Change) String() string {
	s := fmt.Sprintf("POST %s (key %s): ", c.Path, c.Key)
	if c.Status != 0 {
		s += fmt.Sprintf("answered %d %s", c.Status, trim(c.Body))
	} else {
		s += "never answered"
	}
	if n := len(c.Failures); n > 0 {
		s += fmt.Sprintf(" after %d failed attempts, the last: %s", n, c.Failures[n-1])
	}
	return s
}

// Retried reports whether the change needed more than one attempt.
func (c *Change) Retried() bool { return c.Attempts > 1 }

// SignIn signs in over the API and returns the person's client.
func SignIn(ctx context.Context, base, login, password string) (*Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &Client{Base: base, hc: &http.Client{Jar: jar, Timeout: 45 * time.Second}}
	status, body, err := c.Do(ctx, "POST", "/api/v1/auth/login", map[string]string{"login": login, "password": password}, "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("sign in as %s: %d %s", login, status, body)
	}
	return c, nil
}

// Do sends one request and returns the answer.
func (c *Client) Do(ctx context.Context, method, path string, body any, key string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// Get reads path into out, failing on anything but 200.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	status, body, err := c.Do(ctx, "GET", path, nil, "")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, status, body)
	}
	return json.Unmarshal(body, out)
}

// Change sends a change with an Idempotency-Key until it is answered: a
// request that got no answer, or a 5xx, is sent again unchanged, with the
// same key, a second apart, for up to within.
func (c *Client) Change(ctx context.Context, path, key string, body any, within time.Duration) *Change {
	ch := &Change{Path: path, Key: key, Sent: time.Now()}
	c.mu.Lock()
	c.changes = append(c.changes, ch)
	c.mu.Unlock()
	deadline := time.Now().Add(within)
	for {
		status, b, err := c.Do(ctx, "POST", path, body, key)
		c.mu.Lock()
		ch.Attempts++
		switch {
		case err != nil:
			ch.Failures = append(ch.Failures, err.Error())
		case status >= 500:
			ch.Failures = append(ch.Failures, fmt.Sprintf("%d %s", status, trim(b)))
		default:
			ch.Status, ch.Body, ch.Answered = status, b, time.Now()
		}
		done := ch.Status != 0
		c.mu.Unlock()
		if done || time.Now().After(deadline) || ctx.Err() != nil {
			return ch
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Changes is every change sent so far.
func (c *Client) Changes() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Change, len(c.changes))
	for i, ch := range c.changes {
		out[i] = *ch
	}
	return out
}

func trim(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
