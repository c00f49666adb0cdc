package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/devstack"
)

// apiClient calls the API as one person, over real HTTP, and checks every
// response against the OpenAPI document.
type apiClient struct {
	t      testing.TB
	base   string
	hc     *http.Client
	bearer string
	origin string // sent as Origin with Sec-Fetch-Site: cross-site when set
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r response) problem(t testing.TB) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q, want a problem: %s", r.status, ct, r.body)
	}
	var p api.Problem
	r.decode(t, &p)
	return p
}

// hasField reports whether a problem names the field.
func hasField(p api.Problem, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

var (
	specOnce   sync.Mutex
	specRouter = map[string]routers.Router{}
)

// validator checks responses against the OpenAPI document served at base.
type validator struct {
	t      testing.TB
	router routers.Router
	next   http.RoundTripper
}

func newValidator(t testing.TB, base string) *validator {
	specOnce.Lock()
	defer specOnce.Unlock()
	if r, ok := specRouter[base]; ok {
		return &validator{t: t, router: r, next: http.DefaultTransport}
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	specRouter[base] = r
	return &validator{t: t, router: r, next: http.DefaultTransport}
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.String(), "http://127.0.0.1") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if strings.HasPrefix(req.URL.Path, "/dev/") {
		return resp, nil
	}
	route, params, ferr := v.router.FindRoute(req)
	if ferr != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			v.t.Errorf("%s %s (%d) is not in the OpenAPI document: %v", req.Method, req.URL.Path, resp.StatusCode, ferr)
		}
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv")},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		v.t.Errorf("%s %s answered %d not as the OpenAPI document says: %v\n%s", req.Method, route.Path, resp.StatusCode, err, trim(body))
	}
	return resp, nil
}

func trim(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func newClient(t testing.TB, base string) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: base, hc: &http.Client{Jar: jar, Transport: newValidator(t, base), Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs in with the demo password and returns the person's client,
// through the second step when their sign-in has one: setting up an
// authenticator app the first time (a role that requires one), a code
// after that (twostep_test.go).
func signIn(t testing.TB, d *devstack.Dev, login string) *apiClient {
	t.Helper()
	c := newClient(t, d.URL)
	r := c.do("POST", "/api/v1/auth/login", map[string]string{"login": login, "password": devstack.DemoPassword}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", login, r.status, r.body)
	}
	var in api.SignedIn
	r.decode(t, &in)
	switch in.SecondFactor {
	case "":
	case auth.SecondFactorEnrol:
		c.enrolTOTP(d, in.Staff.ID)
	case auth.SecondFactorTOTP:
		c.passSecondFactor(d, in.Staff.ID)
	default:
		t.Fatalf("sign in as %s: second factor %q", login, in.SecondFactor)
	}
	return c
}

// in is the same person's client reporting to t, so that a subtest's
// failures are its own: it shares the session (cookie jar and token).
func (c *apiClient) in(t testing.TB) *apiClient {
	cc := *c
	cc.t = t
	return &cc
}

// do sends a request; body is marshalled unless it is already []byte or a string.
func (c *apiClient) do(method, path string, body any, header map[string]string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// act sends a case action with an Idempotency-Key.
func (c *apiClient) act(path, key string, body any) response {
	c.t.Helper()
	return c.do("POST", path, body, map[string]string{"Idempotency-Key": key})
}

func (c *apiClient) want(r response, status int, what string) response {
	c.t.Helper()
	if r.status != status {
		c.t.Errorf("%s: status %d, want %d: %s", what, r.status, status, trim(r.body))
	}
	return r
}

func q(v url.Values) string { return "?" + v.Encode() }

func fmtDate(d fmt.Stringer) string { return d.String() }
