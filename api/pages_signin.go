package api

import (
	"net/http"
	"net/url"
)

// Sign-in and sign-out pages. Both run the API's own handlers in-process,
// so the page and POST /api/v1/auth/login share the password check, the
// audit and the rate limit (one allowance per client address for both).

type signInPage struct {
	Form *pageForm
	Next string
	OIDC bool
}

func (a *app) signInForm() *pageForm {
	return newForm("sign-in", "/sign-in", "login", "password")
}

func (a *app) pageSignIn(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Auth.Authenticate(r); err == nil {
		http.Redirect(w, r, "/cases", http.StatusSeeOther)
		return
	}
	next := r.URL.Query().Get("next")
	if !safeLocalPath(next) {
		next = ""
	}
	a.render(w, r, http.StatusOK, "signin", pageData{Title: "Sign in", Data: signInPage{Form: a.signInForm(), Next: next, OIDC: a.OIDC != nil}})
}

func (a *app) pageSignInPost(w http.ResponseWriter, r *http.Request) {
	if err := parsePageForm(w, r); err != nil {
		a.pageFail(w, r, err)
		return
	}
	f := r.PostForm
	next := f.Get("next")
	if !safeLocalPath(next) {
		next = "/cases"
	}
	ans := a.callAPI(r, http.MethodPost, a.login, "", LoginBody{Login: f.Get("login"), Password: f.Get("password")}, nil)
	if ans.ok() {
		for _, c := range ans.Header.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", c)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := ans.problem()
	if p.Status >= 500 {
		a.pageError(w, r, p.Status, p.Detail)
		return
	}
	form := a.signInForm().set(url.Values{"login": {f.Get("login")}})
	form.fail(p, nil)
	if p.Status == http.StatusUnauthorized {
		// Say which fields to look at without saying which one was wrong.
		form.Problems = nil
		form.Errs["login"] = p.Detail
	}
	a.render(w, r, p.Status, "signin", pageData{Title: "Sign in", Summary: form.summary(),
		Data: signInPage{Form: form, Next: f.Get("next"), OIDC: a.OIDC != nil}})
}

func (a *app) pageSignOut(w http.ResponseWriter, r *http.Request) {
	ans := a.callAPI(r, http.MethodPost, a.logout, "", nil, nil)
	for _, c := range ans.Header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
	if !ans.ok() {
		a.pageError(w, r, ans.Status, ans.problem().Detail)
		return
	}
	a.redirectWith(w, r, "/sign-in", "You have signed out.")
}
