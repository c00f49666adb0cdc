package web

import (
	"net/http"
	"net/url"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// Sign-in and sign-out pages. The page and POST /api/v1/auth/login share
// the password check and its audit (casework.Service.SignIn) and the rate
// limit (one allowance per client address for both).

type signInPage struct {
	Form *pageForm
	Next string
	OIDC bool
}

func (a *site) signInForm() *pageForm {
	return newForm("sign-in", "/sign-in", "login", "password")
}

func (a *site) pageSignIn(w http.ResponseWriter, r *http.Request) {
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

func (a *site) pageSignInPost(w http.ResponseWriter, r *http.Request) error {
	if err := parsePageForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	next := f.Get("next")
	if !safeLocalPath(next) {
		next = "/cases"
	}
	// A sign-in form posted from another site is refused (login CSRF).
	if a.Auth.CSRF != nil && a.Auth.CSRF.Check(r) != nil {
		return casework.Errorf(casework.Forbidden, "This request came from another site and was refused.")
	}
	ctx, remote := r.Context(), auth.ClientIP(r)
	staff, err := a.Cases.SignIn(ctx, f.Get("login"), f.Get("password"), remote)
	if err == nil {
		if err := a.Sessions.Start(ctx, w, staff.ID, "password", remote); err != nil {
			return err
		}
		if err := a.Cases.AuditAs(ctx, staff.ID, remote, "signin", "", "method=password"); err != nil {
			return err
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	e := formError(err)
	if e == nil {
		return err
	}
	form := a.signInForm().set(url.Values{"login": {f.Get("login")}})
	form.fail(e, nil)
	if e.Kind == casework.Unauthenticated {
		// Say which fields to look at without saying which one was wrong.
		form.Problems = nil
		form.Errs["login"] = e.Detail
	}
	a.render(w, r, casework.Status(err), "signin", pageData{Title: "Sign in", Summary: form.summary(),
		Data: signInPage{Form: form, Next: f.Get("next"), OIDC: a.OIDC != nil}})
	return nil
}

func (a *site) pageSignOut(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	err := a.Sessions.End(r.Context(), w, r)
	if err == nil {
		err = a.Cases.Audit(r.Context(), p, "signout", "", "")
	}
	if err != nil {
		return err
	}
	a.redirectWith(w, r, "/sign-in", "You have signed out.")
	return nil
}
