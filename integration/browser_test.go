package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/devstack"
	"github.com/throughgate/throughgate/resettlement"
)

// The pages in a real browser: headless Chromium, driven over the DevTools
// protocol, against the real dev stack. An officer signs in, is told what is
// wrong with a malformed prison number, opens a case, completes a step and
// transfers the case; the receiving prison's manager finds its overdue steps
// on the board and reassigns them. Screenshots of the main pages, on a
// desktop and at phone width, go to testdata/screenshots/.

// uiChromium finds the browser, or fails saying how to get one: `make deps`
// runs .ci/ensure-chromium, which installs Debian's chromium package.
func uiChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("CHROMIUM=%s is not an executable browser: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell on PATH, and $CHROMIUM): " +
		"run `make deps` (it runs .ci/ensure-chromium, which installs Debian's chromium package with apt-get), or set CHROMIUM to a Chrome or Chromium binary")
	return ""
}

// uiBrowser starts a fresh headless Chromium with its own profile.
func uiBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "chromium-profile")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests run as root here; Chromium's sandbox refuses root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("lang", "en-GB"), // dates in the day/month/year order of the service's users
		chromedp.Env("LANG=en_GB.UTF-8", "LANGUAGE=en_GB"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium (%s): %v", exe, err)
	}
	return ctx
}

// uiShotDir is where screenshots go: integration/testdata/screenshots.
func uiShotDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type uiSession struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	dev  *devstack.Dev // for the codes of two-step sign-in (twostep_test.go)
	// axeRuns counts the accessibility checks run (axe_test.go).
	axeRuns int
}

// do runs actions with a deadline, failing the test with what it was doing.
func (s *uiSession) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.t.Fatalf("%s: %v (page now %s)", what, err, s.location())
	}
}

// submit clicks a button that submits a form and waits for the next page.
func (s *uiSession) submit(what string, sel chromedp.CSS) int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		s.t.Fatalf("%s: %v (page now %s)", what, err, s.location())
	}
	return resp.Status
}

func (s *uiSession) open(path string) int64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(s.base+path))
	if err != nil {
		s.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

func (s *uiSession) location() string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (s *uiSession) text(sel chromedp.CSS) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	txt, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		s.t.Fatalf("reading %s: %v (page now %s)", sel, err, s.location())
	}
	return txt
}

// has reports whether an element matches now, without waiting.
func (s *uiSession) has(sel string) bool {
	s.t.Helper()
	ok, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	if err != nil {
		s.t.Fatalf("looking for %s: %v", sel, err)
	}
	return ok
}

func (s *uiSession) expectText(sel chromedp.CSS, want ...string) {
	s.t.Helper()
	got := s.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			s.t.Errorf("%s on %s says %q, want it to contain %q", sel, s.location(), got, w)
		}
	}
}

// shoot checks the page with axe-core and saves it as PNG, full length, at
// desktop width and at the width of a phone (390 by 844 CSS pixels, as an
// iPhone 12 to 15).
func (s *uiSession) shoot(name string) {
	s.t.Helper()
	for _, v := range []struct {
		suffix        string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		var emulate chromedp.Action[chromedp.Void]
		if v.mobile {
			emulate = chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile, chromedp.EmulateScale(2))
		} else {
			emulate = chromedp.EmulateViewport(v.width, v.height)
		}
		s.do("resize for "+name, emulate, chromedp.Sleep(150*time.Millisecond))
		s.axe(name + " at " + v.suffix + " width") // axe_test.go: WCAG 2.2 AA, every page shot
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			s.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, name+"-"+v.suffix+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	s.do("back to desktop", chromedp.EmulateViewport(1280, 900))
}

// cookie returns the browser's session cookie for the site.
func (s *uiSession) cookie(name string) *http.Cookie {
	s.t.Helper()
	res, err := chromedp.Call(s.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.base + "/"}})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	s.t.Fatalf("the browser has no %s cookie", name)
	return nil
}

// signIn signs in with the demo password and, when the person's sign-in
// has a second step, passes it: setting up an authenticator app the first
// time (a role that requires one), then its code.
func (s *uiSession) signIn(login string) {
	s.t.Helper()
	s.signInPassword(login)
	path := s.path()
	if (path == "/account/two-step" || path == "/sign-in/code") && s.dev == nil {
		s.t.Fatalf("%s's sign-in has a second step: set the uiSession's dev to the stack, for the codes", login)
	}
	switch path {
	case "/account/two-step":
		secret := s.startTwoStep()
		s.confirmTwoStep(staffIDOf(s.t, s.dev, login), secret)
		s.submit("continue after the recovery codes", `main a[href="/cases"]`)
	case "/sign-in/code":
		s.enterCode(staffIDOf(s.t, s.dev, login))
	}
	s.expectText("h1", "My cases")
}

// signInPassword sends the sign-in form with the demo password.
func (s *uiSession) signInPassword(login string) {
	s.t.Helper()
	s.open("/sign-in")
	s.do("fill in the sign-in form",
		chromedp.SetValue(chromedp.ID("sign-in-login"), login),
		chromedp.SetValue(chromedp.ID("sign-in-password"), devstack.DemoPassword))
	s.submit("sign in as "+login, `#sign-in button[type="submit"]`)
}

// path is the path of the page the browser is on.
func (s *uiSession) path() string {
	s.t.Helper()
	u, err := url.Parse(s.location())
	if err != nil {
		s.t.Fatalf("the browser is at %q: %v", s.location(), err)
	}
	return u.Path
}

// startTwoStep asks the two-step page for a new authenticator app and reads
// the secret it shows, as a person types it into the app.
func (s *uiSession) startTwoStep() []byte {
	s.t.Helper()
	s.submit("set up an authenticator app", `form[action="/account/two-step/start"] button`)
	return s.totpSecret()
}

func (s *uiSession) totpSecret() []byte {
	s.t.Helper()
	secret, err := auth.ParseTOTPSecretText(s.text("#totp-secret"))
	if err != nil {
		s.t.Fatalf("the secret on the page: %v", err)
	}
	return secret
}

// confirmTwoStep enters the app's code, and keeps the secret and the
// recovery codes the page then shows, once.
func (s *uiSession) confirmTwoStep(staffID string, secret []byte) {
	s.t.Helper()
	s.do("enter the app's code", chromedp.SetValue(chromedp.ID("confirm-code"), auth.TOTPCodeAt(secret, time.Now())))
	s.submit("turn on two-step sign-in", `#confirm button[type="submit"]`)
	s.expectText("h1", "Your recovery codes")
	codes, err := chromedp.Run(s.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main li code')].map(c => c.textContent.trim())`))
	if err != nil || len(codes) != auth.RecoveryCodeCount {
		s.t.Fatalf("the recovery codes on the page: %v %q", err, codes)
	}
	rememberTwoStep(s.dev, staffID, secret, codes)
}

// enterCode gives the code page a code that signs the person in now.
func (s *uiSession) enterCode(staffID string) {
	s.t.Helper()
	withSignInCode(s.t, s.dev, staffID, func(code string) {
		s.do("enter the code", chromedp.SetValue(chromedp.ID("sign-in-code-code"), code))
		if status := s.submit("sign in with the code", `#sign-in-code button[type="submit"]`); status != http.StatusOK {
			s.t.Fatalf("the code page answered %d to a right code (page now %s)", status, s.location())
		}
	})
}

func (s *uiSession) signOut() {
	s.t.Helper()
	s.submit("sign out", `form[action="/sign-out"] button`)
	s.expectText(".flash", "You have signed out")
}

func TestPagesInChromium(t *testing.T) {
	exe := uiChromium(t)
	policy := filepath.Join(tempDir(t), "policy.json")
	// Seconds, not days: steps whose window has passed fall due 6 s after
	// the case opens, so the board has something on it within the test.
	if err := os.WriteFile(policy, []byte(`{
		"grace": {"duration": "6s"},
		"remind_before": {"duration": "-4s"},
		"remind_on_due": {"duration": "-1s"},
		"escalations": [{"duration": "2s"}, {"duration": "4s"}],
		"stall_after": {"duration": "1m"},
		"handover": {"duration": "5s"},
		"backstop": "1s"
	}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, devConfig(t, filepath.Join(tempDir(t), "data"), "--policy-file", policy))
	defer d.Stop()
	s := &uiSession{t: t, ctx: uiBrowser(t, exe), base: d.URL, dir: uiShotDir(t), dev: d}

	// Not signed in: the sign-in page, which returns to where you were going.
	s.open("/cases")
	if loc := s.location(); !strings.HasSuffix(loc, "/sign-in?next=%2Fcases") {
		t.Errorf("a page while signed out went to %s, want the sign-in page", loc)
	}
	if !s.has(`a[href="/dev/mail"]`) {
		t.Error("the sign-in page of the dev stack does not link to the development mailbox")
	}
	s.do("a wrong password", chromedp.SetValue(chromedp.ID("sign-in-login"), "officer-1"),
		chromedp.SetValue(chromedp.ID("sign-in-password"), "not the password at all"))
	if status := s.submit("sign in with a wrong password", `#sign-in button[type="submit"]`); status != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", status)
	}
	s.expectText(".error-summary", "do not match")
	s.shoot("signin-error")
	s.open("/sign-in")
	s.shoot("signin")
	s.signIn("olu.officer@pvi.example.org")

	// Open a case: a malformed prison number is refused beside its field.
	s.open("/cases/new")
	today := resettlement.DateOf(time.Now())
	s.do("fill in the open-case form",
		chromedp.SetValue(chromedp.ID("open-person-prison_number"), "12345"),
		chromedp.SetValue(chromedp.ID("open-person-given_name"), "Sam"),
		chromedp.SetValue(chromedp.ID("open-person-family_name"), "Example"),
		s.setDate("open-person-date_of_birth", "1990-05-17"),
		chromedp.SetValue(chromedp.ID("open-person-local_authority"), "Islington"),
		s.setDate("open-received_on", today.AddDays(-20).String()),
		s.setDate("open-release_dates-crd", today.AddDays(40).String()))
	if status := s.submit("open with a malformed prison number", `#open button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("a malformed prison number: %d", status)
	}
	s.expectText("#open-person-prison_number-error", "Prison number must be a letter, four digits and two letters")
	s.expectText(".error-summary", "Prison number must be a letter, four digits and two letters")
	if v, _ := chromedp.Run(s.ctx, chromedp.Value(chromedp.ID("open-person-given_name"))); v != "Sam" {
		t.Errorf("the form lost what was typed: given name %q", v)
	}
	s.shoot("open-case-errors")
	s.do("correct the prison number", chromedp.SetValue(chromedp.ID("open-person-prison_number"), "a1234bc"))
	s.submit("open the case", `#open button[type="submit"]`)
	s.expectText(".flash", "Case opened")
	s.expectText("h1", "Sam Example", "A1234BC")
	loc := s.location()
	caseID := loc[strings.LastIndex(loc, "/")+1:]
	if !resettlement.ValidID(caseID) {
		t.Fatalf("the case page is at %s", loc)
	}
	s.expectText("#step-release", "Release", "R")
	s.expectText("#step-housing-referral", "Blocks release")

	// Complete a step, then send the very same form again, as a double
	// click or a reload would: the second does nothing.
	form := `#act-immediate-needs`
	s.do("open the step's form", chromedp.Click(chromedp.CSS(`#step-immediate-needs summary`)),
		chromedp.Click(chromedp.CSS(form+` input[value="complete"]`)))
	key, err := chromedp.Run(s.ctx, chromedp.Value(chromedp.CSS(form+` input[name="key"]`)))
	if err != nil {
		t.Fatal(err)
	}
	s.submit("complete the immediate needs step", chromedp.CSS(form+` button[type="submit"]`))
	s.expectText(".flash", "Step done")
	s.expectText("#step-immediate-needs .tag-status", "Done")
	session := s.cookie("tg_session")
	post := func(path string, v url.Values, headers map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, d.URL+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(session)
		for k, h := range headers {
			req.Header.Set(k, h)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	again := post("/cases/"+caseID+"/steps/immediate-needs/act", url.Values{"key": {key}, "action": {"complete"}},
		map[string]string{"Origin": d.URL, "Sec-Fetch-Site": "same-origin"})
	if again.StatusCode != http.StatusSeeOther {
		t.Errorf("the same form sent twice: %d, want the redirect of a change already made", again.StatusCode)
	}
	entries, err := d.DB.Timeline(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, e := range entries {
		if e.StepID == "immediate-needs" && e.To == resettlement.StepDone {
			done++
		}
	}
	if done != 1 {
		t.Errorf("immediate needs marked done %d times, want once", done)
	}
	// A form posted from another site is refused (CrossOriginProtection).
	if resp := post("/cases/"+caseID+"/steps/immediate-needs/act", url.Values{"key": {"cross-site-1"}, "action": {"note"}, "note": {"x"}},
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form post: %d, want 403", resp.StatusCode)
	}

	// A note needs saying why: the error shows beside the field.
	s.do("open the housing step's form", chromedp.Click(chromedp.CSS(`#step-housing-referral summary`)),
		chromedp.Click(chromedp.CSS(`#act-housing-referral input[value="waiting"]`)))
	s.submit("waiting with no note", `#act-housing-referral button[type="submit"]`)
	s.expectText("#act-housing-referral-note-error", "add a note saying why")
	s.shoot("case-step-error")
	s.do("say why", chromedp.SetValue(chromedp.ID("act-housing-referral-note"), "Referred to Islington; waiting for their answer."))
	s.submit("waiting with a note", `#act-housing-referral button[type="submit"]`)
	s.expectText(".flash", "waiting on another agency")
	s.expectText("#history", "Referred to Islington; waiting for their answer.")
	// The case's own forms: the needs assessment, the release dates, pause
	// and resume.
	caseForm := func(id string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(chromedp.CSS(fmt.Sprintf(`#actions details:has(#%s) summary`, id)))
	}
	s.do("record the assessment", caseForm("assessment"),
		chromedp.SetValue(chromedp.ID("assessment-needs-drugs-alcohol"), "support-not-required"),
		chromedp.SetValue(chromedp.ID("assessment-needs-health"), "support-required"))
	s.submit("record the assessment", `#assessment button[type="submit"]`)
	s.expectText(".flash", "Needs assessment recorded")
	s.expectText("#pathways", "Support not required", "Support required")
	s.do("change the release dates", caseForm("dates"),
		s.setDate("dates-release_dates-crd", today.AddDays(41).String()))
	s.submit("change the release dates without a reason", `#dates button[type="submit"]`)
	s.expectText("#dates-reason-error", "Reason must be one of")
	s.do("give a reason", chromedp.SetValue(chromedp.ID("dates-reason"), "recalculation"))
	s.submit("check the change of release dates", `#dates button[type="submit"]`)
	s.expectText("h1", "Check the change to the release dates")
	s.submit("change the release dates", `#confirm-dates button[type="submit"]`)
	s.expectText(".flash", "Release dates changed")
	s.expectText("#history", "Release dates changed (recalculation)")
	s.do("pause", caseForm("pause"), chromedp.Click(chromedp.CSS(`#pause-reason-0`)))
	s.submit("pause", `#pause button[type="submit"]`)
	s.expectText(".flash", "Case paused")
	s.do("resume", caseForm("resume"))
	s.submit("resume", `#resume button[type="submit"]`)
	s.expectText(".flash", "Case resumed")

	time.Sleep(6 * time.Second) // past the grace period: the passed windows are overdue now
	s.open("/cases/" + caseID)
	s.expectText("#step-needs-assessment .tag-status", "Done") // the assessment recorded is the step done
	s.expectText("#step-bank-account", "Overdue", "Blocks release")
	s.shoot("case")

	s.open("/cases")
	s.expectText("#due-h", "My steps due this week")
	s.expectText("main", "Sam Example", "Housing: duty to refer")
	s.shoot("my-cases")

	// Transfer to Brixton: the officer at Pentonville no longer sees it.
	s.open("/cases/" + caseID)
	s.do("open the transfer form", chromedp.Click(chromedp.CSS(`#actions details:has(#transfer) summary`)),
		chromedp.SetValue(chromedp.ID("transfer-to_team"), "bxi-resettlement"),
		chromedp.SetValue(chromedp.ID("transfer-note"), "Moved to Brixton on Tuesday."))
	s.submit("transfer", `#transfer button[type="submit"]`)
	s.expectText(".flash", "Case transferred to BXI")
	if loc := s.location(); !strings.HasSuffix(loc, "/cases") {
		t.Errorf("after the transfer the officer is at %s, want their case list", loc)
	}
	s.signOut()

	// The receiving prison's manager signs in with two steps. The first
	// time, their role has them set up an authenticator app before anything
	// else opens…
	s.signInPassword("nell.manager@bxi.example.org")
	s.open("/board")
	if path := s.path(); path != "/account/two-step" {
		t.Errorf("a manager without an authenticator app went to %s, want the two-step page", path)
	}
	s.expectText("h1", "Set up two-step sign-in")
	s.shoot("two-step")
	secret := s.startTwoStep()
	s.do("a wrong code", chromedp.SetValue(chromedp.ID("confirm-code"), wrongTOTPCode(secret)))
	if status := s.submit("confirm with a wrong code", `#confirm button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("a wrong code: %d", status)
	}
	s.expectText("#confirm-code-error", "authenticator app")
	if again := s.totpSecret(); string(again) != string(secret) {
		t.Error("after a wrong code the page shows another secret")
	}
	s.shoot("two-step-error")
	s.confirmTwoStep("manager-2", secret)
	s.shoot("two-step-recovery-codes")
	s.submit("continue after the recovery codes", `main a[href="/cases"]`)
	s.expectText("h1", "My cases")
	s.signOut()
	// …and from then on, after the password, the code it shows.
	s.signInPassword("nell.manager@bxi.example.org")
	s.open("/board")
	if loc := s.location(); !strings.HasSuffix(loc, "/sign-in/code?next=%2Fboard") {
		t.Errorf("a page before the code went to %s, want the code page", loc)
	}
	s.expectText("h1", "Enter your code")
	s.shoot("signin-code")
	s.do("a wrong code", chromedp.SetValue(chromedp.ID("sign-in-code-code"), wrongTOTPCode(secret)))
	if status := s.submit("sign in with a wrong code", `#sign-in-code button[type="submit"]`); status != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d", status)
	}
	s.expectText("#sign-in-code-code-error", "not right")
	s.shoot("signin-code-error")
	s.enterCode("manager-2")
	if path := s.path(); path != "/board" {
		t.Errorf("after the code the manager is at %s, want the board they asked for", path)
	}

	// The manager finds the case on the board.
	deadline := time.Now().Add(40 * time.Second)
	for {
		s.open("/board")
		// Three overdue steps in the receiving team's queue: the housing
		// referral, the bank account and, 5 s after the transfer, the handover.
		n, err := chromedp.Run(s.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('tr input[value^="%s/"]').length`, caseID)))
		if err != nil {
			t.Fatal(err)
		}
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transferred case's overdue steps never reached the board: %s", s.text("main"))
		}
		time.Sleep(time.Second)
	}
	s.expectText("main", "Stalled and overdue", "Sam Example", "Team queue: Brixton resettlement")
	chart, _ := chromedp.Run(s.ctx, chromedp.TextContent(chromedp.CSS("#chart-desc")))
	if !strings.Contains(chart, "Overdue steps at the end of each of the last 12 weeks") || strings.Contains(chart, " 0 now") {
		t.Errorf("the chart says %q, want this week's overdue steps counted", chart)
	}
	s.shoot("board")

	// Reassign one step from its own page.
	s.submit("open the reassign page", chromedp.CSS(fmt.Sprintf(`a[href^="/board/reassign/%s/"]`, caseID)))
	s.expectText("h1", "Reassign a step")
	s.shoot("reassign")
	s.do("choose the new owner", chromedp.SetValue(chromedp.ID("reassign-owner"), "bxi-resettlement/officer-2"))
	s.submit("reassign one step", `#reassign button[type="submit"]`)
	s.expectText(".flash", "Reassigned 1 step")
	s.expectText("main", "Bea Officer")

	// And two more at once, ticked on the board.
	ticked, err := chromedp.Run(s.ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => {
		const boxes = [...document.querySelectorAll('input[name="item"][value^="%s/"]')]
			.filter(b => b.closest('tr').textContent.includes('Team queue'));
		boxes.slice(0, 2).forEach(b => { b.checked = true; });
		return Math.min(boxes.length, 2);
	})()`, caseID)))
	if err != nil || ticked != 2 {
		t.Fatalf("ticking two steps: %v (%d)", err, ticked)
	}
	s.do("choose the new owner", chromedp.SetValue(chromedp.CSS(`#reassign-owner`), "bxi-resettlement/officer-2"))
	s.submit("bulk reassign", `#reassign fieldset.tg-bulk button[type="submit"]`)
	s.expectText(".flash", "Reassigned 2 steps")
	st, err := d.Cases.State(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	toBea := 0
	for _, step := range st.Case.Steps {
		if step.Owner.Staff == "officer-2" {
			toBea++
		}
	}
	if toBea != 3 {
		t.Errorf("%d steps are Bea Officer's after reassigning three", toBea)
	}

	// The CSV export of the board.
	req, _ := http.NewRequest(http.MethodGet, d.URL+"/board.csv", nil)
	req.AddCookie(s.cookie("tg_session"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(csvBody), "severity,kind,case_id") || !strings.Contains(string(csvBody), caseID) {
		t.Errorf("board.csv %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), csvBody)
	}

	// Personal data never travels in a URL: every address the browser asked
	// for is checked against the person's details.
	hist, err := chromedp.Call(s.ctx, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist.Entries {
		for _, personal := range []string{"Sam", "Example", "A1234BC", "a1234bc", "1990-05-17", "Islington"} {
			if strings.Contains(e.URL, personal) {
				t.Errorf("a URL carries personal data %q: %s", personal, e.URL)
			}
		}
	}
}
