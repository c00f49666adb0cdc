package api_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/api"
	"github.com/throughgate/throughgate/internal/httpserver"
)

// loadOpenAPI loads the served document (the API's and the pages'), and
// checks it is valid OpenAPI 3.1.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

// documented is one operation of the document.
type documented struct {
	method, path string
	op           *openapi3.Operation
}

func (d documented) String() string { return d.method + " " + d.path }

// page reports whether the operation is a server-rendered page (tag
// "pages", from pages_openapi.json) rather than the JSON API.
func (d documented) page() bool { return slices.Contains(d.op.Tags, "pages") }

// operations lists every operation, in path and method order.
func operations(doc *openapi3.T) []documented {
	var out []documented
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, documented{method: method, path: path, op: op})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].method < out[j].method
	})
	return out
}

// TestOpenAPIDocumentsEveryRoute walks the router and finds each route and
// method in the OpenAPI document, and the document valid OpenAPI 3.1.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	seen := map[string]bool{}
	err := chi.Walk(testRouter(t), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/*")
		seen[method+" "+route] = true
		item := doc.Paths.Find(route)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s %s is not in api/openapi.json", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range operations(doc) {
		if !seen[d.String()] {
			t.Errorf("api/openapi.json has %s, which the router does not serve", d)
		}
	}
	if len(seen) < 40 {
		t.Errorf("walked only %d routes", len(seen))
	}
}

var operationID = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)

// TestOpenAPIOperationIDs checks every operation has an operationId a
// generated client can use as a method name: present, camelCase, unique in
// the document, and "page…" exactly for the pages.
func TestOpenAPIOperationIDs(t *testing.T) {
	doc := loadOpenAPI(t)
	first := map[string]string{}
	for _, d := range operations(doc) {
		id := d.op.OperationID
		switch {
		case id == "":
			t.Errorf("%s has no operationId", d)
			continue
		case !operationID.MatchString(id):
			t.Errorf("%s: operationId %q is not camelCase", d, id)
		case d.page() != strings.HasPrefix(id, "page"):
			t.Errorf("%s: operationId %q: a page's begins with \"page\", and only a page's", d, id)
		}
		if prev, dup := first[id]; dup {
			t.Errorf("%s: operationId %q is also %s's", d, id, prev)
		}
		first[id] = d.String()
	}
}

// publicRoutes are the routes the router serves without signing in (outside
// the authenticate and pageAuth groups). Every other operation must say it
// needs a session or a token, and the document must agree.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true,
	"GET /auth/oidc/login": true, "GET /auth/oidc/callback": true,
	"GET /api/v1/openapi.json": true, "POST /api/v1/auth/login": true,
	"GET /": true, "GET /static/{file}": true, "GET /sign-in": true, "POST /sign-in": true,
	// A partner agency's one-time link (issue 13): the token is its credential.
	"GET /partner/{token}": true, "POST /partner/{token}/reference": true, "POST /partner/{token}/answer": true,
	// A browser's CORS preflight carries no credentials.
	"OPTIONS /api/v1/codec/decode": true, "OPTIONS /api/v1/codec/encode": true,
	"GET /assets/{kind}/{file}": true, "GET /static/govuk/{file}": true,
}

// signInRoutes share the sign-in rate limit (httprate, per client address).
var signInRoutes = map[string]bool{
	"POST /api/v1/auth/login": true, "GET /auth/oidc/login": true, "GET /auth/oidc/callback": true,
	"POST /sign-in": true,
}

// roleChecked are the collections whose every route checks the person's
// role: case contents are not for administrators, the board is for managers
// and heads, staff, teams and the audit log are for administrators.
var roleChecked = []string{"/api/v1/cases", "/api/v1/board", "/api/v1/staff", "/api/v1/teams", "/api/v1/audit", "/api/v1/admin", "/cases", "/board"}

func under(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '/' || rest[0] == '.')
}

// routeClass is what the test knows of an operation from its route.
type routeClass struct {
	documented
	authenticated bool
}

func (c routeClass) unsafe() bool {
	return c.method != http.MethodGet && c.method != http.MethodHead && c.method != http.MethodOptions
}

func (c routeClass) hasParam(in string) bool {
	for _, p := range c.op.Parameters {
		if p.Value != nil && p.Value.In == in {
			return true
		}
	}
	return false
}

func (c routeClass) hasHeader(name string) bool {
	for _, p := range c.op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Value.Name) == name {
			return true
		}
	}
	return false
}

func (c routeClass) body(mediaType string) bool {
	return c.op.RequestBody != nil && c.op.RequestBody.Value != nil && c.op.RequestBody.Value.Content.Get(mediaType) != nil
}

func (c routeClass) caseAction() bool {
	return c.method == http.MethodPost && (strings.HasPrefix(c.path, "/api/v1/cases/{caseID}/") || strings.HasPrefix(c.path, "/cases/{caseID}/"))
}

// errorRules are the 4xx answers a route's class implies, each for a reason
// in the code. An operation must list at least these (it may list more: a
// handler's own checks, such as 409 for an id already in use); the
// integration tests then hold every answer to what the document lists.
// api is what the JSON API answers (problem+json), pages what a page
// answers (an HTML page; a page never answers 401, it sends the browser to
// sign in with a 303).
var errorRules = []struct {
	why        string
	applies    func(routeClass) bool
	api, pages []int
}{
	{"it needs a session or a token (authenticate, pageAuth)",
		func(c routeClass) bool { return c.authenticated }, []int{401}, []int{303}},
	{"a change sent with a session cookie from another site is refused (auth.ErrCrossOrigin)",
		func(c routeClass) bool { return c.authenticated && c.unsafe() }, []int{403}, []int{403}},
	{"it checks the person's role (caseScope, boardScope, requireAdmin)",
		func(c routeClass) bool {
			return c.authenticated && slices.ContainsFunc(roleChecked, func(p string) bool { return under(c.path, p) })
		}, []int{403}, []int{403}},
	{"a path parameter names something that may not exist, or that the person may not see (a case outside their caseload is 404)",
		func(c routeClass) bool { return c.hasParam(openapi3.ParameterInPath) }, []int{404}, []int{404}},
	{"a JSON body: 400 malformed, 413 over MaxBody (64 KiB), 415 not JSON, 422 fields at fault (readBody, decodeBytes)",
		func(c routeClass) bool { return c.body("application/json") }, []int{400, 413, 415, 422}, nil},
	{"an Idempotency-Key header, answered 400 when missing or malformed (idempotencyKey)",
		func(c routeClass) bool { return c.hasHeader("Idempotency-Key") }, []int{400}, nil},
	{"a posted form, answered 400 when it cannot be read (parsePageForm) or its API call is malformed",
		func(c routeClass) bool { return c.body("application/x-www-form-urlencoded") }, nil, []int{400}},
	{"its query filters are checked, 422 naming the wrong ones (filterFromQuery, readBoardQuery, readAuditFilter)",
		func(c routeClass) bool { return c.authenticated && c.hasParam(openapi3.ParameterInQuery) }, []int{422}, nil},
	{"an action on a case: 409 when its state does not allow it or it is closed, 503 when the case engine does not answer in time; a page shows the API's 413 and 422 too",
		routeClass.caseAction, []int{409, 503}, []int{409, 413, 422, 503}},
	{"it shares the sign-in rate limit (429 per client address)",
		func(c routeClass) bool { return signInRoutes[c.String()] }, []int{429}, []int{429}},
}

// TestOpenAPIListsErrors checks every operation lists the 4xx its route
// class implies (errorRules), and each 4xx in the form its surface answers:
// problem+json with the Problem schema from the API, an HTML page from the
// pages.
func TestOpenAPIListsErrors(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, d := range operations(doc) {
		authenticated := d.op.Security == nil && len(doc.Security) > 0 || d.op.Security != nil && len(*d.op.Security) > 0
		if authenticated == publicRoutes[d.String()] {
			t.Errorf("%s: security says authenticated=%t, the router says %t", d, authenticated, !authenticated)
		}
		c := routeClass{documented: d, authenticated: !publicRoutes[d.String()]}
		for _, rule := range errorRules {
			if !rule.applies(c) {
				continue
			}
			want := rule.api
			if d.page() {
				want = rule.pages
			}
			for _, status := range want {
				if d.op.Responses.Value(strconv.Itoa(status)) == nil { // listed by code, not only as 4XX
					t.Errorf("%s does not list %d, which it can answer: %s", d, status, rule.why)
				}
			}
		}
		for code, ref := range d.op.Responses.Map() {
			if !strings.HasPrefix(code, "4") || ref.Value == nil {
				continue
			}
			checkErrorContent(t, d, code, ref.Value)
		}
	}
}

func checkErrorContent(t *testing.T, d documented, code string, r *openapi3.Response) {
	t.Helper()
	if d.page() {
		if r.Content["text/html"] == nil && r.Content["text/plain"] == nil {
			t.Errorf("%s %s: a page's error is a page (text/html), not %v", d, code, mediaTypes(r.Content))
		}
		return
	}
	// Single sign-on may also answer a browser with the error page.
	for _, mt := range mediaTypes(r.Content) {
		if mt != "application/problem+json" && mt != "text/html" {
			t.Errorf("%s %s: the API's errors are problem documents, not %s", d, code, mt)
		}
	}
	mt := r.Content["application/problem+json"]
	if mt == nil {
		t.Errorf("%s %s: the API's errors are application/problem+json, not %v", d, code, mediaTypes(r.Content))
		return
	}
	if mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Problem" {
		t.Errorf("%s %s: the problem's schema is not #/components/schemas/Problem", d, code)
	}
}

func mediaTypes(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for mt := range c {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

// testRouter is the router whose routes the document describes. Its
// construction stays on one line, to change with the router's constructor.
func testRouter(t *testing.T) chi.Routes {
	t.Helper()
	return httpserver.New(httpserver.Deps{}).(chi.Routes)
}
