package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/throughgate/throughgate/internal/auth"
	"github.com/throughgate/throughgate/internal/casework"
)

// act is the handler of one action on a case: the body decoded into the
// service's command C, anything from the address filled in by fill, and
// the command given to casework.Service.Act, which checks, applies and
// audits it.
func act[C casework.Command](a *app, fill func(r *http.Request, c *C)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, caseID := auth.FromContext(r.Context()), chi.URLParam(r, "caseID")
		// In the order a stranger learns least from: the case's scope, then
		// the key, then the body.
		if err := a.Cases.Access(r.Context(), p, caseID); err != nil {
			return err
		}
		key, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		var c C
		if err := decode(r, &c); err != nil {
			return err
		}
		if fill != nil {
			fill(r, &c)
		}
		res, err := a.Cases.Act(r.Context(), p, caseID, key, c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, res)
	}
}
