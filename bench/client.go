package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// apiClient calls the stack's API with a personal access token.
type apiClient struct {
	base, token string
	hc          *http.Client
}

func newAPIClient(base, token string, conns int) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(conns, 2)
	return &apiClient{base: base, token: token, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// do sends a request (body marshalled to JSON unless nil) and returns the
// status and body.
func (c *apiClient) do(method, path string, body any, header map[string]string) (int, []byte, error) {
	if body == nil {
		return c.doRaw(method, path, "", nil, header)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	return c.doRaw(method, path, "application/json", b, header)
}

// doRaw sends a body as it is, with its content type ("" and a nil body:
// none).
func (c *apiClient) doRaw(method, path, contentType string, body []byte, header map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// get sends a GET, wants 200 and decodes the body into v (unless nil).
func (c *apiClient) get(path string, v any) error {
	status, b, err := c.do("GET", path, nil, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, status, trim(b))
	}
	if v != nil {
		return json.Unmarshal(b, v)
	}
	return nil
}

// latencies measures a request samples times, one at a time after a few
// to warm caches and plans, and returns the sorted latencies. Each answer
// must be 200.
func latencies(samples int, req func(i int) (int, []byte, error)) ([]time.Duration, error) {
	for i := range 3 {
		if _, _, err := req(i); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, 0, samples)
	for i := range samples {
		t0 := time.Now()
		status, b, err := req(i)
		d := time.Since(t0)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("status %d: %s", status, trim(b))
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

// pct is the p-th quantile (0..1) of sorted durations, nearest rank.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func trim(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// idOf reads the id of a case from its JSON.
func idOf(b []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &v)
	return v.ID
}
