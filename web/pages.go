// Package web is Throughgate's pages for people: officers, managers and
// heads of service, in the browser. They work without JavaScript: plain
// HTML forms, Post/Redirect/Get with a flash message after each change.
//
// A page handler reads the form, calls the application service
// (internal/casework) with the same typed command the JSON API sends, and
// renders the answer. Handlers return an error; route() shows it once, as
// the error page with the status casework.Status gives; a form's field
// errors are shown beside its inputs and in the error summary instead.
//
// No personal data goes in a URL: searching and paging the case list are
// POSTs, case ids are opaque, and the board's filters are ids.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/resettlement"
)

// Deps is what the pages need; httpserver.New sets every field but OIDC.
type Deps struct {
	Cases *casework.Service
	// Auth knows who is behind a request; Sessions signs browsers in.
	Auth     *auth.Authenticator
	Sessions *auth.Sessions
	// OIDC, when set, offers single sign-on at /auth/oidc/login.
	OIDC *auth.OIDC
	// Mailbox links the development SMTP server's mailbox from the pages.
	Mailbox bool
	// SignInRate limits sign-in attempts per client address; the API's
	// sign-in shares it.
	SignInRate func(http.Handler) http.Handler
	Logger     *slog.Logger
}

type site struct{ Deps }

// now is the service's clock, so a page and the service it shows agree on
// what is overdue.
func (a *site) now() time.Time {
	if a.Cases != nil && a.Cases.Now != nil {
		return a.Cases.Now()
	}
	return time.Now()
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// MaxForm is the largest form accepted.
const MaxForm = 64 << 10

// pages holds one template set per page, each the layout plus the page.
var pages = mustParsePages()

// staticVersion changes whenever a static file does, so the stylesheet's
// address can be cached for ever.
var staticVersion = staticHash()

func mustParsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(pageFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		file := path.Base(n)
		if file == "layout.html" || file == "partials.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFiles, n))
		out[strings.TrimSuffix(file, ".html")] = t
	}
	return out
}

func staticHash() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := staticFiles.ReadFile(p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// handlerFunc is a page handler that returns its failure rather than
// showing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes mounts the pages on r.
func Routes(r chi.Router, d Deps) {
	a := &site{d}
	h, signInRate := a.route, d.SignInRate
	r.Get("/static/{file}", serveStatic)
	// GOV.UK Frontend's release assets; its stylesheet asks for its fonts
	// and images at /assets/.
	r.Get("/static/govuk/{file}", serveStatic)
	r.Get("/assets/{kind}/{file}", serveStatic)
	r.Get("/", a.pageHome)
	// A partner agency's one-time link: outside sign-in (pages_partner.go).
	a.partnerRoutes(r)
	r.Get("/sign-in", a.pageSignIn)
	r.With(htmlRateLimit(signInRate, a)).Post("/sign-in", h(a.pageSignInPost))
	r.With(signInRate).Get("/auth/oidc/login", h(a.oidcLogin))
	r.With(signInRate).Get("/auth/oidc/callback", h(a.oidcCallback))
	// Signed in with a password but perhaps not yet through the second
	// factor: finishing that (or setting it up), and signing out.
	r.Group(func(r chi.Router) {
		r.Use(a.pageAuthHalfway)
		r.Post("/sign-out", h(a.pageSignOut))
		r.Get("/sign-in/code", h(a.pageSignInCode))
		r.With(htmlRateLimit(signInRate, a)).Post("/sign-in/code", h(a.pageSignInCodePost))
		r.Get("/account/two-step", h(a.pageTwoStep))
		r.Post("/account/two-step/start", h(a.pageTwoStepStart))
		r.Post("/account/two-step/confirm", h(a.pageTwoStepConfirm))
	})
	r.Group(func(r chi.Router) {
		r.Use(a.pageAuth)
		r.Post("/account/two-step/disable", h(a.pageTwoStepDisable))
		r.Post("/account/two-step/recovery-codes", h(a.pageTwoStepRecoveryCodes))
		r.Get("/account", h(a.pageSettings))
		r.Get("/settings", http.RedirectHandler("/account", http.StatusSeeOther).ServeHTTP)
		r.Post("/account/emails", h(a.pageSettingsEmails))
		r.Post("/account/away", h(a.pageSettingsAway))
		r.Post("/account/password", h(a.pageSettingsPassword))
		r.Post("/account/tokens", h(a.pageSettingsToken))
		r.Post("/account/tokens/{tokenID}/revoke", h(a.pageSettingsRevoke))
		r.Get("/cases", h(a.pageCases))
		r.Post("/cases/search", h(a.pageCasesSearch))
		r.Get("/cases/new", h(a.pageOpenCase))
		r.Post("/cases/new", h(a.pageOpenCasePost))
		r.Get("/cases/{caseID}", h(a.pageCase))
		a.consentRoutes(r) // partner links and consent (pages_partner.go)
		r.Post("/cases/{caseID}/steps/{stepID}/act", h(a.pageStepAct))
		r.Post("/cases/{caseID}/steps/{stepID}/assign", h(a.pageStepAssign))
		r.Post("/cases/{caseID}/assign", h(a.pageCaseAssign))
		r.Post("/cases/{caseID}/assessment", h(a.pageAssessment))
		r.Post("/cases/{caseID}/release-dates/check", h(a.pageDatesCheck))
		r.Post("/cases/{caseID}/release-dates/edit", h(a.pageDatesEdit))
		r.Post("/cases/{caseID}/release-dates", h(a.pageReleaseDates))
		r.Post("/cases/{caseID}/reset/check", h(a.pageResetCheck))
		r.Post("/cases/{caseID}/reset/edit", h(a.pageResetEdit))
		r.Post("/cases/{caseID}/reset", h(a.pageReset))
		r.Post("/cases/{caseID}/transfer", h(a.pageTransfer))
		r.Post("/cases/{caseID}/pause", h(a.pagePause))
		r.Post("/cases/{caseID}/resume", h(a.pageResume))
		r.Post("/cases/{caseID}/close", h(a.pageClose))
		r.Get("/admin", h(a.pageAdmin))
		r.Get("/admin/staff", h(a.pageStaffList))
		r.Get("/admin/staff/new", h(a.pageStaffNew))
		r.Post("/admin/staff/new", h(a.pageStaffNewPost))
		r.Get("/admin/staff/{staffID}", h(a.pageStaffEdit))
		r.Post("/admin/staff/{staffID}", h(a.pageStaffEditPost))
		r.Post("/admin/staff/{staffID}/deactivate", h(a.pageStaffDeactivate))
		r.Post("/admin/staff/{staffID}/password", h(a.pageStaffPassword))
		r.Post("/admin/staff/{staffID}/two-step/reset", h(a.pageStaffResetTwoStep))
		r.Get("/admin/teams", h(a.pageTeams))
		r.Get("/admin/teams/new", h(a.pageTeamNew))
		r.Post("/admin/teams/new", h(a.pageTeamNewPost))
		r.Get("/admin/teams/{teamID}", h(a.pageTeamEdit))
		r.Post("/admin/teams/{teamID}", h(a.pageTeamEditPost))
		r.Post("/admin/teams/{teamID}/deactivate", h(a.pageTeamDeactivate))
		r.Get("/admin/audit", h(a.pageAudit))
		r.Get("/admin/audit.csv", h(a.pageAuditCSV))
		r.Post("/cases.csv", h(a.pageCasesCSV))
		r.Get("/reports/outcomes", h(a.pageOutcomes))
		r.Get("/reports/outcomes.csv", h(a.pageOutcomesCSV))
		r.Get("/board", h(a.pageBoard))
		r.Get("/board.csv", h(a.pageBoardCSV))
		r.Get("/board/reassign/{caseID}/{stepID}", h(a.pageReassignOne))
		r.Post("/board/reassign", h(a.pageReassign))
		r.Get("/board/events", h(a.pageEvents))
		r.Post("/board/events/{eventID}/apply", h(a.pageEventApply))
		r.Post("/board/events/{eventID}/dismiss", h(a.pageEventDismiss))
		// Loading a caseload from a CSV file (pages_imports.go).
		r.Get("/imports", h(a.pageImports))
		r.Post("/imports", h(a.pageImportUpload))
		r.Get("/imports/template.csv", h(a.pageImportTemplate))
		r.Get("/imports/{importID}", h(a.pageImport))
		r.Post("/imports/{importID}/start", h(a.pageImportStart))
	})
}

// route adapts a page handler: its error becomes the error page, and a
// fault on our side is logged (its text never shown: it may hold internals).
func (a *site) route(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.pageFail(w, r, err)
		}
	}
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
	dir := "static/"
	switch {
	case strings.HasPrefix(r.URL.Path, "/static/govuk/"):
		dir = "static/govuk/"
	case strings.HasPrefix(r.URL.Path, "/assets/"):
		kind := chi.URLParam(r, "kind")
		if kind != "fonts" && kind != "images" {
			http.NotFound(w, r)
			return
		}
		dir = "static/govuk/assets/" + kind + "/"
	}
	if name == "" || strings.Contains(name, "/") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".txt") {
		http.NotFound(w, r)
		return
	}
	b, err := staticFiles.ReadFile(dir + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js", ".mjs":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	case ".woff2":
		w.Header().Set("Content-Type", "font/woff2")
	case ".woff":
		w.Header().Set("Content-Type", "font/woff")
	case ".ico":
		w.Header().Set("Content-Type", "image/x-icon")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	// The fonts' and images' names carry their own hash; the rest are
	// asked for with the static files' version.
	if r.URL.Query().Get("v") == staticVersion || strings.HasPrefix(r.URL.Path, "/assets/fonts/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}

// pageData is what every page's template gets.
type pageData struct {
	Title   string
	Section string // the navigation item to mark current
	Me      *auth.Principal
	Flash   string
	Mailbox bool
	CSS     string
	// GovukCSS and GovukJS are GOV.UK Frontend's stylesheet and the
	// script that starts its components (the pages work without it).
	GovukCSS, GovukJS string
	// Summary lists the errors of the form in error, linking to each field.
	Summary []summaryItem
	Data    any
}

type summaryItem struct{ Href, Text string }

// render writes a page. Pages show personal data: never cached.
func (a *site) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	t, ok := pages[name]
	if !ok {
		a.Logger.ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	if d.Me == nil {
		d.Me = auth.FromContext(r.Context())
	}
	d.Mailbox = a.Mailbox
	d.CSS = "/static/app.css?v=" + staticVersion
	d.GovukCSS = "/static/govuk/govuk-frontend.min.css?v=" + staticVersion
	d.GovukJS = "/static/govuk/init.mjs?v=" + staticVersion
	if d.Flash == "" {
		d.Flash = a.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		a.Logger.ErrorContext(r.Context(), "rendering a page failed", "page", name, "err", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageError shows a page that says what went wrong.
func (a *site) pageError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.render(w, r, status, "error", pageData{Title: http.StatusText(status), Data: msg})
}

// pageFail shows the error page for err: what the person can do about
// it, or, for a fault on our side (logged), that it was ours.
func (a *site) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := casework.ErrorOf(err)
	if !ok {
		a.Logger.ErrorContext(r.Context(), "page failed", "route", chi.RouteContext(r.Context()).RoutePattern(), "err", err)
		a.pageError(w, r, http.StatusInternalServerError, "Something went wrong on our side. Try again; if it keeps happening, tell the service desk.")
		return
	}
	if e.Kind == casework.Forbidden && a.Cases != nil { // every 403 is audited (casework.Service.Refused)
		if aerr := a.Cases.Refused(r.Context(), auth.FromContext(r.Context()), auth.ClientIP(r),
			r.Method+" "+chi.RouteContext(r.Context()).RoutePattern(), chi.URLParam(r, "caseID"), err); aerr != nil {
			a.Logger.ErrorContext(r.Context(), "auditing a refusal", "err", aerr)
		}
	}
	msg := e.Detail
	if len(e.Fields) > 0 {
		msg = errorText(e.Fields)
	}
	a.pageError(w, r, casework.Status(err), msg)
}

// errorText puts field errors in one paragraph, each a sentence.
func errorText(errs resettlement.Errors) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, sentence(fieldLabel(e.Field), e.Message))
	}
	return strings.Join(parts, " ")
}

// pageAuth lets a request through only with a live session; a browser that
// is not signed in is sent to the sign-in page, and one whose password
// sign-in still needs its second factor to the code page (or, to set one
// up, the two-step page). Authenticate also refuses a cookie-authenticated
// POST from another site (CrossOriginProtection).
func (a *site) pageAuth(next http.Handler) http.Handler { return a.signedIn(next, false) }

// pageAuthHalfway also lets through a session still to pass (or set up) its
// second factor, for the pages that do that.
func (a *site) pageAuthHalfway(next http.Handler) http.Handler { return a.signedIn(next, true) }

func (a *site) signedIn(next http.Handler, halfway bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Auth.Authenticate(r)
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			to := "/sign-in"
			if r.Method == http.MethodGet && safeLocalPath(r.URL.Path) {
				to += "?next=" + url.QueryEscape(r.URL.Path)
			} else {
				a.setFlash(w, "You were signed out. Sign in again, then repeat what you were doing.")
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		case errors.Is(err, auth.ErrCrossOrigin):
			a.pageError(w, r, http.StatusForbidden, "This request came from another site and was refused.")
			return
		case err != nil:
			a.pageFail(w, r, err)
			return
		}
		if p.Pending != "" && !halfway {
			back := ""
			if r.Method == http.MethodGet && safeLocalPath(r.URL.Path) {
				back = r.URL.Path
			}
			http.Redirect(w, r, secondStepPage(p.Pending, back), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

var localPath = regexp.MustCompile(`^/[A-Za-z0-9/_.-]*$`)

// safeLocalPath reports whether p is a path on this site to return to after
// signing in: no scheme, no host, no "//" and nothing but plain characters.
func safeLocalPath(p string) bool {
	return localPath.MatchString(p) && !strings.HasPrefix(p, "//") && !strings.Contains(p, "..") &&
		p != "/sign-in" && p != "/sign-out"
}

func (a *site) pageHome(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Auth.Authenticate(r); err != nil {
		http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/cases", http.StatusSeeOther)
}

// Flash messages survive one redirect in a short-lived cookie. They say
// what was done in general words, never whose case it was.

func (a *site) flashCookie() string {
	if a.Sessions != nil && a.Sessions.Cookie.Secure {
		return "__Host-tg_flash"
	}
	return "tg_flash"
}

func (a *site) setFlash(w http.ResponseWriter, msg string) {
	secure := a.Sessions != nil && a.Sessions.Cookie.Secure
	http.SetCookie(w, &http.Cookie{Name: a.flashCookie(), Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", MaxAge: 60, Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (a *site) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(a.flashCookie())
	if err != nil {
		return ""
	}
	secure := a.Sessions != nil && a.Sessions.Cookie.Secure
	http.SetCookie(w, &http.Cookie{Name: a.flashCookie(), Value: "", Path: "/", MaxAge: -1, Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}

// redirectWith sends the browser on with a flash message (Post/Redirect/Get).
func (a *site) redirectWith(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		a.setFlash(w, flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// parsePageForm reads a posted form of at most MaxForm bytes.
func parsePageForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
	if err := r.ParseForm(); err != nil {
		return casework.Errorf(casework.Malformed, "The form could not be read. Go back and try again.")
	}
	return nil
}

// limitWriter holds back what the rate limiter writes when it refuses, so
// the page can answer in HTML; once the limiter lets the request through,
// everything passes.
type limitWriter struct {
	http.ResponseWriter
	passed bool
}

func (lw *limitWriter) WriteHeader(s int) {
	if lw.passed {
		lw.ResponseWriter.WriteHeader(s)
	}
}

func (lw *limitWriter) Write(b []byte) (int, error) {
	if lw.passed {
		return lw.ResponseWriter.Write(b)
	}
	return len(b), nil
}

// htmlRateLimit applies the shared sign-in limit to the sign-in form and
// shows its refusal as a page.
func htmlRateLimit(limit func(http.Handler) http.Handler, a *site) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		limited := limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lw := w.(*limitWriter)
			lw.passed = true
			next.ServeHTTP(lw.ResponseWriter, r)
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lw := &limitWriter{ResponseWriter: w}
			limited.ServeHTTP(lw, r)
			if !lw.passed {
				a.pageError(w, r, http.StatusTooManyRequests, "Too many sign-in attempts from this address. Wait a minute and try again.")
			}
		})
	}
}

// navLink is one item of the service navigation.
type navLink struct {
	Href, Text string
	Current    bool
}

// stepContext is what the template of one step on the case page gets.
type stepContext struct {
	timelineItem
	Owners []option
}

// Dates and times on the pages, in London time.

func showDate(d resettlement.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.At(12 * time.Hour).Format("Mon 2 Jan 2006")
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(resettlement.London).Format("2 Jan 2006, 15:04")
}

func showDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return showDate(resettlement.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()})
}

// inDays says how far a day is from today in words.
func inDays(n int) string {
	switch {
	case n == 0:
		return "today"
	case n == 1:
		return "tomorrow"
	case n == -1:
		return "yesterday"
	case n > 1:
		return "in " + itoa(n) + " days"
	}
	return itoa(-n) + " days ago"
}

func itoa(n int) string { return strconv.Itoa(n) }

// relRelease writes a day relative to release day R: "R−56", "R", "R+7".
func relRelease(day, release resettlement.Date) string {
	if day.IsZero() || release.IsZero() {
		return ""
	}
	n := release.DaysUntil(day)
	switch {
	case n == 0:
		return "R"
	case n < 0:
		return "R−" + itoa(-n)
	}
	return "R+" + itoa(n)
}

// statusLabel and stageLabel name a step's status and a case's stage as
// the domain titles them.
func statusLabel(s resettlement.StepStatus) string { return s.Title() }

func stageLabel(s string) string { return resettlement.Stage(s).Title() }

var pageFuncs = template.FuncMap{
	"date":          showDate,
	"time":          showTime,
	"day":           showDay,
	"inDays":        inDays,
	"status":        statusLabel,
	"stage":         stageLabel,
	"pathway":       func(p resettlement.Pathway) string { return p.Title() },
	"pathwayStatus": resettlement.PathwayStatus.Title,
	"field":         newField,
	"opt":           func(value, label string) option { return option{Value: value, Label: label} },
	"deref":         func(p *int) int { return *p },
	"neg":           func(n int) int { return -n },
	"add":           func(a, b int) int { return a + b },
	"mod":           func(a, b int) int { return a % b },
	"stepctx": func(it timelineItem, owners []option) stepContext {
		return stepContext{timelineItem: it, Owners: owners}
	},
	"all": func(label string, o []option) []option {
		return append([]option{{Value: "", Label: label}}, o...)
	},
	"statusTag": statusTag,
	"measure":   func(m string) string { return measureLabels[m] },
	"role": func(r string) string {
		if l, ok := roleLabels[r]; ok {
			return l
		}
		return r
	},
	"plural": plural,
	"actionHead": func(id, label string, open bool) actionHeadSpec {
		return actionHeadSpec{ID: id, Label: label, Open: open}
	},
	"navItem": func(href, text string, current bool) navLink {
		return navLink{Href: href, Text: text, Current: current}
	},
	"yesno": func() []option {
		return []option{{Value: "", Label: "Not known"}, {Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}
	},
}
